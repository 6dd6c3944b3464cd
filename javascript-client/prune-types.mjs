// Keeps in dist/ only the declaration files that dist/index.d.ts reaches: tsc writes one per
// source file, and the package ships only what its types need.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const dist = 'dist';
const reached = new Set();
const pending = [join(dist, 'index.d.ts')];
while (pending.length > 0) {
  const file = normalize(pending.pop());
  if (reached.has(file)) continue;
  reached.add(file);
  const text = readFileSync(file, 'utf8');
  for (const [, spec] of text.matchAll(/(?:from|import\()\s*['"](\.[^'"]+)['"]/g)) {
    pending.push(join(dirname(file), spec.replace(/\.js$/, '.d.ts')));
  }
}
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  const file = normalize(join(entry.parentPath, entry.name));
  if (entry.isFile() && file.endsWith('.d.ts') && !reached.has(file)) {
    rmSync(file);
  }
}
console.log(`declarations kept: ${[...reached].map((file) => relative(dist, file)).join(', ')}`);
