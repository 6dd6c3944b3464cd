/** The same `accept` rule as the server's: MIME types, `type/*` wildcards and `.ext` endings. */
export function isAccepted(accept: string, file: File): boolean {
  const entries = accept
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  if (entries.length === 0) {
    return true;
  }
  const type = (file.type || 'application/octet-stream').toLowerCase();
  const name = file.name.toLowerCase();
  return entries.some((entry) => {
    if (entry.startsWith('.')) {
      return name.endsWith(entry);
    }
    if (entry === '*/*') {
      return true;
    }
    if (entry.endsWith('/*')) {
      return type.startsWith(entry.slice(0, -1));
    }
    return type === entry;
  });
}
