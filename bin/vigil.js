#!/usr/bin/env node
// The `vigil` command. Runs the compiled CLI when it is at least as new as the sources, and the
// sources themselves otherwise, so a checkout never runs a stale build.
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const compiled = path.join(root, 'dist', 'cli', 'index.js');
const sources = path.join(root, 'src');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

const useCompiled =
  fs.existsSync(compiled) && (!fs.existsSync(sources) || fs.statSync(compiled).mtimeMs >= newestMtime(sources));

if (useCompiled) {
  require(compiled);
} else {
  require('@swc-node/register');
  require(path.join(sources, 'cli', 'index.ts'));
}
