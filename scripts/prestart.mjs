#!/usr/bin/env node
/* global process, console */
// `npm start`'s first step: check the configuration (one line and exit 2 when a setting is wrong,
// before any build), then build only when a source changed since the last build. The gateway itself
// is started by the `start` script with `exec`, so npm's signals reach it directly.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const stampFile = path.join(root, 'dist', '.sources.sha256');

/** Everything the build reads: sources, build scripts and settings, the lock file. */
function buildInputs() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(path.join(root, 'src'));
  for (const f of ['scripts/build-ui.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) files.push(path.join(root, f));
  return files.filter((f) => existsSync(f)).sort();
}

function sourcesHash() {
  const hash = createHash('sha256');
  for (const file of buildInputs()) hash.update(path.relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

const built = () =>
  existsSync(path.join(root, 'dist', 'main.js')) && existsSync(path.join(root, 'public', 'manifest.json')) && existsSync(stampFile);

const hash = sourcesHash();
const fresh = built() && readFileSync(stampFile, 'utf8').trim() === hash;

// The same configuration the gateway will read: the environment, then ./.env for what it lacks.
if (existsSync(path.resolve('.env'))) process.loadEnvFile(path.resolve('.env'));
if (!fresh) require('@swc-node/register');
const { loadConfig, ConfigError } = require(fresh ? path.join(root, 'dist', 'config.js') : path.join(root, 'src', 'config.ts'));
try {
  loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

if (fresh) process.exit(0);
console.error(built() ? 'sources changed since the last build: building' : 'building (first start)');
const result = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(stampFile, `${hash}\n`);
