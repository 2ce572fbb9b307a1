import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ENDPOINT_FILE } from '../../src/infra/embedded-endpoint';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process';
import { lines, runVigil } from '../cli/run-vigil';

// Each step runs the real CLI (compiled on the fly) beside a server: slow on a loaded machine.
jest.setTimeout(180_000);

/** `npm start`'s process (src/main.ts) on the embedded database under `dataDir`. */
function startGateway(dataDir: string): Promise<GatewayProcess> {
  return startGatewayProcess({
    env: {
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ADMIN_PASSWORD: 'beside-the-server-1',
      VIGIL_BACKUP_SCHEDULE: 'off',
      VIGIL_BACKUP_DRILL_SCHEDULE: 'off',
    },
  });
}

async function ask(url: string, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: { extensions?: { code?: string } }[] };
}

const SIGN_IN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { email role } } }';

describe('the CLI beside `npm start` on the embedded database', () => {
  let dataDir: string;
  let gateway: GatewayProcess | undefined;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-beside-'));
    gateway = await startGateway(dataDir);
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const vigil = (args: string[]) => runVigil(args, { VIGIL_DATA_DIR: dataDir, VIGIL_BACKUP_SCHEDULE: 'off' }, 180_000);

  it('the server records its embedded database for its owner only', () => {
    const file = path.join(dataDir, ENDPOINT_FILE);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('vigil health answers one line and exit 0 while the server serves', async () => {
    const res = await vigil(['health']);
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
    expect(lines(res.stdout)).toEqual([expect.stringMatching(/^UP: database UP \(\d+ ms\)/)]);
  });

  it('vigil seed --demo writes users the running server signs in', async () => {
    const res = await vigil(['seed', '--demo', '--investigations', '20', '--findings-per', '2', '--password', 'demo-password-1234']);
    expect({ code: res.code, stderr: res.stderr.trim() === '' || !/vigil:/.test(res.stderr) }).toEqual({ code: 0, stderr: true });
    const login = await ask(gateway!.url, SIGN_IN, { e: 'demo.analyst@vigil.example', p: 'demo-password-1234' });
    expect(login.data).toEqual({ login: { user: { email: 'demo.analyst@vigil.example', role: 'ANALYST' } } });
  });

  it('vigil user create adds an account the running server signs in', async () => {
    const res = await vigil(['user', 'create', '--email', 'beside@vigil.example', '--name', 'Beside', '--role', 'VIEWER', '--password', 'beside-password-1']);
    expect(res.code).toBe(0);
    const login = await ask(gateway!.url, SIGN_IN, { e: 'beside@vigil.example', p: 'beside-password-1' });
    expect(login.data).toEqual({ login: { user: { email: 'beside@vigil.example', role: 'VIEWER' } } });
  });

  it('vigil backup create makes a backup of the served database', async () => {
    const res = await vigil(['backup', 'create', '--label', 'beside']);
    expect(res.code).toBe(0);
    const list = await vigil(['backup', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('beside');
  });

  it('after the server stops, the file is gone and the CLI starts the database itself', async () => {
    expect(await gateway!.stop()).toBe(0);
    expect(existsSync(path.join(dataDir, ENDPOINT_FILE))).toBe(false);
    const res = await vigil(['health']);
    expect(res.code).toBe(0);
    expect(lines(res.stdout)).toEqual([expect.stringMatching(/^UP: database UP/)]);
  });

  it('a stale file left by a dead process is ignored', async () => {
    writeFileSync(path.join(dataDir, ENDPOINT_FILE), JSON.stringify({ url: 'postgresql://vigil:x@127.0.0.1:1/vigil', pid: 2 ** 22 + 12345, startedAt: '' }), { mode: 0o600 });
    const res = await vigil(['health']);
    expect(res.code).toBe(0);
  });
});
