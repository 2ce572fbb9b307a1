import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createProgram } from '../../src/cli/index';
import { createLogger } from '../../src/infra/logger';
import { Role } from '../../src/permissions/roles';
import { resolveSigningKey, SIGNING_KEY_FILE } from '../../src/services/auth/signing-key';
import { LoginDocument, MeDocument } from '../generated/graphql';
import { createUser, signIn } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { testRedisUrl } from '../helpers/database';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server';

describe('the signing key', () => {
  it('is generated once under the data directory with mode 0600 when none is configured', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-key-'));
    try {
      const dataDir = path.join(dir, 'data');
      const first = resolveSigningKey({ dataDir });
      const file = path.join(dataDir, SIGNING_KEY_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(first.length).toBeGreaterThanOrEqual(64);
      expect(resolveSigningKey({ dataDir }).equals(first)).toBe(true);
      expect(readFileSync(file, 'utf8').trim()).toBe(first.toString('utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an obviously weak configured key in production', () => {
    for (const weak of ['x'.repeat(40), 'abcdabcdabcdabcdabcdabcdabcdabcdabcd', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdefghijk']) {
      expect(() => resolveSigningKey({ env: 'production', jwtSecret: weak, dataDir: '/nonexistent' })).toThrow(/VIGIL_JWT_SECRET: too weak/);
    }
    expect(resolveSigningKey({ env: 'production', jwtSecret: TEST_JWT_SECRET, dataDir: '/nonexistent' }).toString()).toBe(TEST_JWT_SECRET);
  });

  it('is the configured one when VIGIL_JWT_SECRET is set', () => {
    expect(resolveSigningKey({ jwtSecret: TEST_JWT_SECRET, dataDir: '/nonexistent' }).toString()).toBe(TEST_JWT_SECRET);
  });
});

describe('the first administrator', () => {
  it('is created from VIGIL_ADMIN_EMAIL / VIGIL_ADMIN_PASSWORD on an empty database, once', async () => {
    const env = { VIGIL_ADMIN_EMAIL: 'Root@Example.org', VIGIL_ADMIN_PASSWORD: 'first-admin-password-1' };
    const server = await startTestServer({ env });
    try {
      const login = await graphql(server.url, LoginDocument, { email: 'root@example.org', password: 'first-admin-password-1' });
      expect(login.data?.login.user.role).toBe('SUPER_ADMIN');
      const again = await startTestServer({ env: { ...env, VIGIL_ADMIN_EMAIL: 'other@example.org' }, database: server.database });
      await again.close();
      expect(await server.services.users.list({ first: 100 }).then((p) => p.edges.map((e) => e.node.email))).toEqual(['root@example.org']);
    } finally {
      await server.close();
    }
  });

  it('gets a generated strong password, shown once, when none is configured', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const server = await startTestServer({ logger: createLogger('info', sink) });
    try {
      const announcement = lines.map((l) => JSON.parse(l) as { msg: string }).find((l) => l.msg.includes('generated password'));
      const password = /generated password:\s+(\S+)/.exec(announcement?.msg ?? '')?.[1];
      expect(password?.length).toBeGreaterThanOrEqual(20);
      const login = await graphql(server.url, LoginDocument, { email: 'admin@vigil.local', password: password! });
      expect(login.data?.login.user.role).toBe('SUPER_ADMIN');
    } finally {
      await server.close();
    }
  });
});

describe('vigil user …', () => {
  let server: TestServer;
  const saved = { ...process.env };
  let output: string[];

  async function vigil(...args: string[]): Promise<string> {
    output = [];
    await createProgram().parseAsync(['node', 'vigil', ...args]);
    return output.join('\n');
  }

  beforeAll(async () => {
    server = await startTestServer();
    Object.assign(process.env, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: server.database.url,
      REDIS_URL: testRedisUrl(),
      VIGIL_REDIS_PREFIX: server.config.redisPrefix,
      VIGIL_JWT_SECRET: TEST_JWT_SECRET,
      VIGIL_DATA_DIR: server.config.dataDir,
    });
    jest.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
      output.push(parts.join(' '));
    });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    process.env = saved;
    await server.close();
  });

  it('create, set-role, disable, enable and reset-password act on the account', async () => {
    const created = await vigil('user', 'create', '--email', 'ops@test.vigil', '--name', 'Ops', '--role', 'ANALYST');
    const password = /password \(shown once\): (\S+)/.exec(created)?.[1];
    expect(created).toContain('created ops@test.vigil (ANALYST)');
    const { accessToken } = await signIn(server, 'ops@test.vigil', password!);

    expect(await vigil('user', 'set-role', 'ops@test.vigil', 'investigator')).toContain('(INVESTIGATOR)');
    expect((await graphql(server.url, MeDocument, {}, { token: accessToken })).data?.me?.role).toBe('INVESTIGATOR');

    expect(await vigil('user', 'disable', 'OPS@test.vigil')).toContain('disabled ops@test.vigil');
    expect((await graphql(server.url, MeDocument, {}, { token: accessToken })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await vigil('user', 'enable', 'ops@test.vigil')).toContain('enabled ops@test.vigil');

    const reset = await vigil('user', 'reset-password', 'ops@test.vigil', '--password', 'a-brand-new-password');
    expect(reset).toContain('every session was ended');
    expect((await graphql(server.url, LoginDocument, { email: 'ops@test.vigil', password: 'a-brand-new-password' })).errors).toBeUndefined();
  });

  it('fails with a clear message for an unknown account or role', async () => {
    await expect(vigil('user', 'disable', 'nobody@test.vigil')).rejects.toThrow(/User nobody@test.vigil was not found/);
    await expect(vigil('user', 'set-role', 'nobody@test.vigil', 'KING')).rejects.toThrow(/unknown role "KING"/);
    const admin = await createUser(server, Role.VIEWER);
    await expect(vigil('user', 'create', '--email', admin.email, '--name', 'Dup', '--role', 'VIEWER')).rejects.toThrow(/already exists/);
  });
});
