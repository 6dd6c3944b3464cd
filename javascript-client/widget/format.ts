const units = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

function numberFormat(fractionDigits: number): Intl.NumberFormat {
  const locale = document.documentElement.lang || undefined;
  return new Intl.NumberFormat(locale, { maximumFractionDigits: fractionDigits });
}

/** Sizes in decimal units with one decimal, as Django's `filesizeformat` shows them. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${numberFormat(unit === 0 ? 0 : 1).format(value)}\u00a0${units[unit]}`;
}

/** A duration as h:mm:ss or m:ss: compact, and the same in every language. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

export function formatPercent(uploaded: number, total: number): string {
  const ratio = total === 0 ? 1 : uploaded / total;
  return numberFormat(0).format(Math.floor(ratio * 100));
}
