import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isProcessAlive } from '../../src/infra/process-alive';
import { ROOT, startGatewayProcess } from '../helpers/gateway-process';

// Two full builds (tsc and the pages) and a first start of the embedded database: slow on a loaded machine.
jest.setTimeout(300_000);

/** What a clone holds that `npm start` reads; node_modules is linked to this checkout's. */
const TREE = ['src', 'scripts', 'bin', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md'];

/** Only what a new user's shell would have: no setting of the test run leaks into the tree's start. */
const SHELL = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), npm_config_update_notifier: 'false' };

/**
 * `npm start` in a copy of the repository with nothing built: its own dist, public and `.vigil`,
 * so the checkout's build, which other tests use, is never touched.
 */
describe('`npm start` on a fresh tree', () => {
  let tree: string;
  const dist = (file: string) => path.join(tree, 'dist', file);

  /** `npm start`'s first step (scripts/prestart.mjs) in the tree. */
  const prestart = (env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(tree, 'scripts', 'prestart.mjs')], { cwd: tree, env: { ...SHELL, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stderr }));
    });

  beforeAll(() => {
    tree = mkdtempSync(path.join(tmpdir(), 'vigil-npm-start-'));
    // As root, the embedded PostgreSQL runs as `postgres`, which must pass through the tree to `.vigil`.
    chmodSync(tree, 0o755);
    for (const entry of TREE) cpSync(path.join(ROOT, entry), path.join(tree, entry), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules'), 'dir');
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  it('reports a wrong setting in one line with exit code 2, before building anything', async () => {
    const res = await prestart({ PORT: 'not-a-port' });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Invalid setting PORT: /)]);
    expect(existsSync(path.join(tree, 'dist'))).toBe(false);
  });

  it('builds on the first start, and not again while the sources are unchanged (a newer time alone is no change)', async () => {
    const first = await prestart();
    expect(first).toEqual({ code: 0, stderr: expect.stringContaining('building (first start)') });
    expect(existsSync(dist('main.js'))).toBe(true);
    expect(existsSync(path.join(tree, 'public', 'manifest.json'))).toBe(true);
    const builtAt = statSync(dist('main.js')).mtimeMs;

    const again = await prestart();
    expect(again).toEqual({ code: 0, stderr: '' });
    // A checkout or a copy gives sources a new time without changing them: still no build.
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(tree, 'src', 'errors.ts'), later, later);
    expect(await prestart()).toEqual({ code: 0, stderr: '' });
    expect(statSync(dist('main.js')).mtimeMs).toBe(builtAt);
  });

  it('serves on the embedded database from the built tree, and on SIGTERM stops PostgreSQL and exits 0', async () => {
    const gateway = await startGatewayProcess({ command: ['npm', 'start'], cwd: tree, env: { npm_config_update_notifier: 'false' } });
    try {
      expect(gateway.output()).not.toMatch(/building/);
      const base = gateway.url.replace(/\/graphql$/, '');
      const healthz = await fetch(`${base}/healthz`);
      expect(healthz.status).toBe(200);
      const answer = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ health { status } }' }) });
      expect(await answer.json()).toEqual({ data: { health: { status: 'UP' } } });
      expect(gateway.output()).toContain('created the first administrator admin@vigil.local');

      const postmaster = Number(readFileSync(path.join(tree, '.vigil', 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(isProcessAlive(postmaster)).toBe(true);
      expect(await gateway.stop()).toBe(0);
      expect(gateway.output()).toContain('"msg":"stopped"');
      expect(isProcessAlive(postmaster)).toBe(false);
    } finally {
      await gateway.stop('SIGKILL');
    }
  });

  it('rebuilds when a source changed since the last build, then starts without building', async () => {
    appendFileSync(path.join(tree, 'src', 'errors.ts'), "\n/** Written by the build-freshness test. */\nexport const BUILD_PROBE = 'rebuilt';\n");
    const res = await prestart();
    expect(res).toEqual({ code: 0, stderr: expect.stringContaining('sources changed since the last build: building') });
    expect(readFileSync(dist('errors.js'), 'utf8')).toContain("'rebuilt'");
    expect(await prestart()).toEqual({ code: 0, stderr: '' });
  });
});
