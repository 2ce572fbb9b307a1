import { systemMeta } from '../../src/context';
import { Role } from '../../src/permissions/roles';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { graphql, wsClient } from '../helpers/clients';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startTestServer, type TestServer } from '../helpers/server';
import { CREATE_INVESTIGATION, LIST_INVESTIGATIONS, readSettings, until, updateSettings } from './helpers';

const QUIET = { VIGIL_HEALTH_INTERVAL_MS: '0', VIGIL_HEALTH_CACHE_MS: '0' };

/** Runs one operation over a websocket and returns its single result. */
async function overWebsocket(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const client = wsClient(url, token);
  try {
    type Result = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
    const iterator = client.iterate({ query, variables });
    try {
      const first = await iterator.next();
      await iterator.return?.();
      return first.value as Result;
    } catch (errors) {
      // A refusal before execution arrives as graphql-ws's `error` message.
      if (Array.isArray(errors)) return { errors } as Result;
      throw errors;
    }
  } finally {
    await client.dispose();
  }
}

describe('maintenance mode across two instances', () => {
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;
  let superAdmin: string;
  let adminOnB: string;
  let analystOnB: string;

  beforeAll(async () => {
    redis = await startRedis();
    a = await startTestServer({ env: { ...QUIET, REDIS_URL: redis.url } });
    b = await startTestServer({ database: a.database, redisPrefix: a.config.redisPrefix, env: { ...QUIET, REDIS_URL: redis.url, VIGIL_SETTINGS_POLL_MS: '400' } });
    superAdmin = await tokenFor(a, Role.SUPER_ADMIN);
    adminOnB = await tokenFor(b, Role.ADMIN);
    analystOnB = await tokenFor(b, Role.ANALYST);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  const createOnB = (title: string) => graphql<{ createInvestigation: { id: string } }>(b.url, CREATE_INVESTIGATION, { title }, { token: analystOnB });
  const refusedOnB = async () => (await createOnB('probe')).errors?.[0]?.extensions?.code === 'SERVICE_UNAVAILABLE';

  it('turned on through A refuses mutations on B within a second over HTTP and websocket, keeps reads and sign-in working, and off restores writes', async () => {
    expect((await createOnB('before')).data?.createInvestigation.id).toBeDefined();

    const on = await updateSettings(a.url, superAdmin, { maintenance: { enabled: true, message: 'Upgrading the database' } });
    expect(on.errors).toBeUndefined();
    const tookMs = await until(refusedOnB, 'B to refuse writes', 1000);
    expect(tookMs).toBeLessThanOrEqual(1000);

    const refused = await createOnB('during');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.data?.createInvestigation ?? null).toBeNull();
    expect(refused.errors?.[0]).toMatchObject({
      message: 'Upgrading the database',
      extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 30, reason: 'MAINTENANCE', requestId: expect.any(String) },
    });

    const ws = await overWebsocket(b.wsUrl, analystOnB, CREATE_INVESTIGATION, { title: 'over ws' });
    expect(ws.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfter: 30, reason: 'MAINTENANCE' });
    expect(ws.errors?.[0]?.message).toBe('Upgrading the database');

    const read = await graphql<{ investigations: { totalCount: number } }>(b.url, LIST_INVESTIGATIONS, {}, { token: analystOnB });
    expect(read.errors).toBeUndefined();
    expect(read.data?.investigations.totalCount).toBeGreaterThanOrEqual(1);
    const wsRead = await overWebsocket(b.wsUrl, analystOnB, LIST_INVESTIGATIONS, {});
    expect(wsRead.errors).toBeUndefined();

    const someone = await createUser(b, Role.VIEWER);
    await expect(signIn(b, someone.email, someone.password)).resolves.toHaveProperty('accessToken');

    const health = await graphql<{ health: { status: string; components: { name: string; status: string; detail: string | null }[] } }>(
      b.url,
      '{ health { status components { name status detail } } }',
      {},
      { token: adminOnB },
    );
    expect(health.data?.health.status).not.toBe('UP');
    const component = health.data?.health.components.find((c) => c.name === 'maintenance');
    expect(component?.status).toBe('DEGRADED');
    expect(component?.detail).toContain('Upgrading the database');
    expect(component?.detail).toContain('turned on by');

    const off = await updateSettings(a.url, superAdmin, { maintenance: { enabled: false } });
    expect(off.errors).toBeUndefined();
    await until(async () => !(await refusedOnB()), 'B to admit writes again', 1000);
    expect((await createOnB('after')).data?.createInvestigation.id).toBeDefined();
    const wsAfter = await overWebsocket(b.wsUrl, analystOnB, CREATE_INVESTIGATION, { title: 'over ws after' });
    expect(wsAfter.errors).toBeUndefined();
  }, 60_000);

  it('refuses a mutation that mixes an exempt field with another, and admits the exempt ones alone', async () => {
    await updateSettings(a.url, superAdmin, { maintenance: { enabled: true } });
    await until(refusedOnB, 'B to refuse writes', 1000);
    try {
      const mixed = await graphql(b.url, 'mutation { logout createInvestigation(input: { title: "x" }) { id } }', {}, { token: analystOnB });
      expect(mixed.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      const throughFragment = await graphql(
        b.url,
        'mutation { ...F } fragment F on Mutation { createInvestigation(input: { title: "x" }) { id } }',
        {},
        { token: analystOnB },
      );
      expect(throughFragment.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      const settings = await readSettings(b.url, adminOnB);
      expect(settings.maintenance).toMatchObject({ enabled: true, since: expect.any(String) });
    } finally {
      await updateSettings(a.url, superAdmin, { maintenance: { enabled: false } });
    }
    await until(async () => !(await refusedOnB()), 'B to admit writes again', 1000);
  }, 30_000);

  it('refuses the deletions, the Boolean ones and the V2 ones with payloads alike, and deletes nothing', async () => {
    const superAdminOnB = await tokenFor(b, Role.SUPER_ADMIN);
    const { id } = (await createOnB('kept through maintenance')).data!.createInvestigation;
    const sessions = await graphql<{ mySessions: { id: string }[] }>(b.url, '{ mySessions { id } }', {}, { token: analystOnB });
    const sessionId = sessions.data!.mySessions[0]!.id;
    await updateSettings(a.url, superAdmin, { maintenance: { enabled: true } });
    await until(refusedOnB, 'B to refuse writes', 1000);
    try {
      for (const mutation of [
        'deleteInvestigation(id: $id)',
        'deleteInvestigationV2(id: $id) { deletedId }',
        'deleteBackup(id: $id)',
        'deleteBackupV2(id: $id) { deletedId }',
      ]) {
        const refused = await graphql(b.url, `mutation($id: ID!) { ${mutation} }`, { id }, { token: superAdminOnB });
        expect([mutation, refused.errors?.[0]?.extensions?.code]).toEqual([mutation, 'SERVICE_UNAVAILABLE']);
      }
      for (const mutation of ['revokeSession(id: $id)', 'revokeSessionV2(id: $id) { revokedId }']) {
        const refused = await graphql(b.url, `mutation($id: ID!) { ${mutation} }`, { id: sessionId }, { token: analystOnB });
        expect([mutation, refused.errors?.[0]?.extensions?.code]).toEqual([mutation, 'SERVICE_UNAVAILABLE']);
      }
    } finally {
      await updateSettings(a.url, superAdmin, { maintenance: { enabled: false } });
    }
    await until(async () => !(await refusedOnB()), 'B to admit writes again', 1000);
    const still = await graphql<{ investigation: { id: string } | null }>(b.url, 'query($id: ID!) { investigation(id: $id) { id } }', { id }, { token: analystOnB });
    expect(still.data?.investigation?.id).toBe(id);
    const deleted = await graphql<{ deleteInvestigationV2: { deletedId: string } }>(b.url, 'mutation($id: ID!) { deleteInvestigationV2(id: $id) { deletedId } }', { id }, { token: superAdminOnB });
    expect(deleted.data?.deleteInvestigationV2.deletedId).toBe(id);
  }, 30_000);

  it('a Redis outage during the change delays it by at most the poll period', async () => {
    await redis.stop();
    try {
      const on = await updateSettings(a.url, superAdmin, { maintenance: { enabled: true, message: 'without Redis' } });
      expect(on.errors).toBeUndefined();
      // B polls every 400 ms; the bound leaves room for one slow round trip on a busy machine.
      const tookMs = await until(refusedOnB, 'B to refuse writes without Redis', 400 + 600);
      expect(tookMs).toBeLessThanOrEqual(1000);
      await updateSettings(a.url, superAdmin, { maintenance: { enabled: false } });
      await until(async () => !(await refusedOnB()), 'B to admit writes again without Redis', 1000);
    } finally {
      await redis.start();
    }
  }, 30_000);

  it('a maintenance lease tells its holder when every instance has stopped admitting writes', async () => {
    const inFlight = b.services.settings.writes.admit(['createInvestigation']);
    const hold = await a.services.settings.enterMaintenance(systemMeta('test'), { reason: 'restore of backup test', message: 'Restoring' });
    try {
      await until(refusedOnB, 'B to refuse writes under the lease', 1000);
      const waiting = await a.services.settings.awaitWritesStopped({ timeoutMs: 600 });
      expect(waiting.stopped).toBe(false);
      expect(waiting.waitingFor).toContain(b.services.settings.instanceId);
      inFlight();
      const done = await a.services.settings.awaitWritesStopped({ timeoutMs: 5000 });
      expect(done).toEqual({ stopped: true, waitingFor: [] });
      const refused = await createOnB('under lease');
      expect(refused.errors?.[0]).toMatchObject({ message: 'Restoring', extensions: { code: 'SERVICE_UNAVAILABLE', detail: 'restore of backup test' } });
    } finally {
      await hold.release(systemMeta('test'));
    }
    await until(async () => !(await refusedOnB()), 'B to admit writes after the lease', 1000);
  }, 30_000);
});
