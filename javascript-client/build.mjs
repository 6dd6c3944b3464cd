// Bundles src/ into one ES module (`tsc -p tsconfig.build.json` writes the declarations beside
// it), and the form widget into the Django app's static files.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const widgetStatic = '../s3_file_field/static/s3_file_field';

// The browser bundles have no Node: with `globalThis.process` undefined, the Node branch of
// src/runtime.ts is dead code, and the Node transport and API calls (node:http) are left out.
// esbuild resolves imports before it drops dead code, hence `external`; the check after each
// build fails it if a node:* import survived.
const browserOnly = { define: { 'globalThis.process': 'undefined' }, external: ['node:*'], metafile: true };

function assertNoNodeImports({ metafile }) {
  for (const [file, { imports }] of Object.entries(metafile.outputs)) {
    const kept = imports.filter(({ external }) => external).map(({ path }) => path);
    if (kept.length > 0) throw new Error(`${file}, a browser bundle, imports ${kept.join(', ')}`);
  }
}

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/index.js',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  // A neutral build reads no package.json field unless told: crc-32 has only `main`.
  mainFields: ['module', 'main'],
  // Imported at run time, in Node only (src/node-requests.ts).
  external: ['node:*'],
  target: ['es2022'],
  sourcemap: true,
  logLevel: 'info',
});

mkdirSync(widgetStatic, { recursive: true });
const widget = await build({
  entryPoints: ['widget/index.ts'],
  outfile: `${widgetStatic}/widget.js`,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  ...browserOnly,
  target: ['es2020'],
  minify: true,
  sourcemap: true,
  logLevel: 'info',
});
assertNoNodeImports(widget);
// Loaded by the widget as a Worker from beside widget.js (widget/resize.ts).
await build({
  entryPoints: ['widget/resize-worker.ts'],
  outfile: `${widgetStatic}/resize-worker.js`,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  sourcemap: true,
  logLevel: 'info',
});
copyFileSync('widget/widget.css', `${widgetStatic}/widget.css`);

// The demo's single-page upload example, served by test_app.
const demo = await build({
  entryPoints: ['examples/spa-demo.ts'],
  outfile: '../test_app/static/test_app/spa-demo.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  ...browserOnly,
  target: ['es2020'],
  sourcemap: true,
  logLevel: 'info',
});
assertNoNodeImports(demo);
