import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

/** Runs `startX()` of a test helper in a fresh process with `env`, and returns what it printed. */
async function startIn(helper: 'postgres' | 'redis', env: Record<string, string>): Promise<string> {
  const fn = helper === 'postgres' ? 'startPostgres' : 'startRedis';
  const script = `require('./test/helpers/${helper}').${fn}().then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); })`;
  try {
    await run(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 });
    return 'started';
  } catch (error) {
    return (error as { stderr: string }).stderr;
  }
}

describe('the test harness names a missing tool', () => {
  it('PostgreSQL: what to install, not a raw runuser error', async () => {
    const out = await startIn('postgres', { PG_BIN_DIR: '/nonexistent/postgresql/15/bin' });
    expect(out).toContain('PostgreSQL 15 is not installed: /nonexistent/postgresql/15/bin/initdb is missing — apt-get install -y postgresql-15');
    expect(out).not.toMatch(/runuser/);
  });

  it('Redis: what to install, not a spawn ENOENT', async () => {
    const out = await startIn('redis', { REDIS_SERVER: 'redis-server-not-here' });
    expect(out).toContain('redis-server is not installed (redis-server-not-here not found): apt-get install -y redis-server');
  });
});
