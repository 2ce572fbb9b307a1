#!/usr/bin/env node
/* global process */
// Bundles the browser UIs (src/ui: the GraphQL IDE and the live console) into public/assets with
// content-hashed names, and writes public/manifest.json, which the gateway reads to serve them.
// Everything the pages need is in the bundles: the gateway serves them itself, no CDN.
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'public', 'assets');
const entries = { graphiql: 'src/ui/graphiql/main.tsx', console: 'src/ui/console/main.tsx' };

await rm(path.join(root, 'public'), { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, path.join(root, file)])),
  outdir,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'iife',
  platform: 'browser',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  tsconfig: path.join(root, 'src/ui/tsconfig.json'),
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file', '.png': 'file' },
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});

const manifest = {};
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!output.entryPoint) continue;
  const name = Object.keys(entries).find((key) => path.join(root, entries[key]) === path.resolve(root, output.entryPoint));
  if (!name) continue;
  manifest[name] = { js: path.basename(file), css: output.cssBundle ? path.basename(output.cssBundle) : null };
}

// An air-gapped page must not reach out: no stylesheet may pull anything from another host.
for (const [file] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.css')) continue;
  const css = await readFile(path.join(root, file), 'utf8');
  const external = css.match(/(@import|url\()\s*['"]?(https?:)?\/\/[^'")\s]+/g);
  if (external) {
    process.stderr.write(`build-ui: ${file} references other hosts: ${external.join(', ')}\n`);
    process.exit(1);
  }
}

await writeFile(path.join(root, 'public', 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
const sizes = Object.entries(result.metafile.outputs)
  .filter(([f]) => !f.endsWith('.map'))
  .map(([f, o]) => `  ${path.relative(root, f)}  ${(o.bytes / 1024).toFixed(0)} KiB`);
process.stdout.write(`build-ui: wrote public/manifest.json\n${sizes.join('\n')}\n`);
