import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { spawnGateway } from '../helpers/gateway-process';

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
    const gateway = await spawnGateway({ port, env: { LOG_LEVEL: 'warn', DATABASE_URL: database.url, VIGIL_DATA_DIR: dataDir } });
    // 'close' comes after the last output; 'exit' may come before it.
    await new Promise((resolve) => gateway.child.once('close', resolve));
    const code = await gateway.exited;
    expect(code).toBe(1);
    expect(gateway.stderr().trim().split('\n')).toEqual([`Vigil failed to start: port ${port} on 127.0.0.1 is in use (another Vigil or another program): set PORT or stop it`]);
    expect(gateway.output()).not.toMatch(/Internal error|check your implementation|at .*\.js:\d+/);
  });
});
