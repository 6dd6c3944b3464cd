// Bundles src/ into one ES module (`tsc -p tsconfig.build.json` writes the declarations beside
// it), and the form widget into the Django app's static files.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const widgetStatic = '../s3_file_field/static/s3_file_field';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/index.js',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: ['es2022'],
  sourcemap: true,
  logLevel: 'info',
});

mkdirSync(widgetStatic, { recursive: true });
await build({
  entryPoints: ['widget/index.ts'],
  outfile: `${widgetStatic}/widget.js`,
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
await build({
  entryPoints: ['examples/spa-demo.ts'],
  outfile: '../test_app/static/test_app/spa-demo.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  sourcemap: true,
  logLevel: 'info',
});
