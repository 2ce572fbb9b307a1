import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/infra/net';
import { isProcessAlive } from '../../src/infra/process-alive';
import { startGatewayProcess } from '../helpers/gateway-process';

describe('the process as `npm start` runs it (embedded PostgreSQL, no settings)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-process-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves, and on SIGTERM drains, stops PostgreSQL and exits 0; a restart keeps the data', async () => {
    const port = await findFreePort();
    const start = () => startGatewayProcess({ port, env: { VIGIL_DATA_DIR: dataDir } });
    const url = `http://127.0.0.1:${port}/graphql`;
    const ask = async (query: string, token?: string) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query }),
      });
      return (await res.json()) as { data?: Record<string, never>; errors?: unknown[] };
    };

    const first = await start();
    const password = /generated password:\s*\n\s*(\S+)/.exec(first.output())?.[1];
    expect(password).toBeDefined();
    expect((await ask('{ health { status } }')).data).toEqual({ health: { status: 'UP' } });
    const login = await ask(`mutation { login(email: "admin@vigil.local", password: "${password}") { accessToken } }`);
    const token = (login.data as unknown as { login: { accessToken: string } }).login.accessToken;
    const created = await ask('mutation { createInvestigation(input: { title: "Survives a restart" }) { id } }', token);
    expect(created.errors).toBeUndefined();

    const postmaster = Number(readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(isProcessAlive(postmaster)).toBe(true);
    expect(await first.stop()).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');
    expect(isProcessAlive(postmaster)).toBe(false);
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);

    const second = await start();
    try {
      const again = await ask(`mutation { login(email: "admin@vigil.local", password: "${password}") { accessToken } }`);
      const token2 = (again.data as unknown as { login: { accessToken: string } }).login.accessToken;
      const list = await ask('{ investigations { totalCount edges { node { title } } } }', token2);
      expect(list.data).toEqual({ investigations: { totalCount: 1, edges: [{ node: { title: 'Survives a restart' } }] } });
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 180_000);
});
