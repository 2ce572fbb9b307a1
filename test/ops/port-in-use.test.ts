import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { TEST_JWT_SECRET } from '../helpers/server';

const ROOT = path.resolve(__dirname, '..', '..');

describe('a port in use', () => {
  let blocker: Server;
  let database: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-port-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is one clear line and exit code 1, with no graphql-ws stack', async () => {
    const port = (blocker.address() as { port: number }).port;
    const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join(ROOT, 'src', 'main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: database.url, VIGIL_DATA_DIR: dataDir, VIGIL_JWT_SECRET: TEST_JWT_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([`Vigil failed to start: port ${port} on 127.0.0.1 is in use (another Vigil or another program): set PORT or stop it`]);
    expect(stdout + stderr).not.toMatch(/Internal error|check your implementation|at .*\.js:\d+/);
  });
});
