// Builds the GraphiQL bundle into ../internal/playground/dist, which the Go
// package embeds. Output names carry a content hash so the server can cache
// them forever; manifest.json tells the server which names to link.
import * as esbuild from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(here, '../internal/playground/dist');

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

const result = await esbuild.build({
  entryPoints: { playground: path.join(here, 'src/main.jsx') },
  outdir,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  jsx: 'automatic',
  legalComments: 'eof',
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file', '.png': 'file' },
  metafile: true,
  logLevel: 'info',
});

const manifest = {};
for (const [file, out] of Object.entries(result.metafile.outputs)) {
  const name = path.basename(file);
  if (out.entryPoint && name.endsWith('.js')) manifest.script = name;
  if (name.endsWith('.css')) manifest.style = name;
}
if (!manifest.script || !manifest.style) {
  throw new Error(`build produced no script or stylesheet: ${JSON.stringify(manifest)}`);
}
await writeFile(path.join(outdir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log('manifest', manifest);
