#!/usr/bin/env node
// The `vigil` command: runs the compiled CLI (npm run build first), or the sources in a checkout.
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'cli', 'index.js');
if (fs.existsSync(compiled)) {
  require(compiled);
} else {
  require('@swc-node/register');
  require(path.join(__dirname, '..', 'src', 'cli', 'index.ts'));
}
