// Bundles the agent app into dist/ (esbuild): launch.html + launch.js, index.html + app.js, styles.css.
// Run: npx tsx packages/smart-app/build.ts (or `npm run build -w @fhirdesk/smart-app`).
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');

const html = (title: string, script: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><link rel="stylesheet" href="/app/styles.css"></head>
<body>${body}<script type="module" src="/app/${script}"></script></body></html>
`;

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: { launch: join(root, 'src/launch.ts'), app: join(root, 'src/main.tsx') },
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // CJS-04: fhirclient's debug channel stays off; no build-time switch turns it on.
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
await copyFile(join(root, 'static/styles.css'), join(dist, 'styles.css'));
await writeFile(
  join(dist, 'launch.html'),
  html('fhirdesk — launching', 'launch.js', '<main><p id="status" role="status">Connecting to the EHR…</p></main>'),
);
await writeFile(
  join(dist, 'index.html'),
  html('fhirdesk', 'app.js', '<div id="root"><p role="status">Loading…</p></div>'),
);
