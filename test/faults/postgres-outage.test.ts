import { Role } from '../../src/permissions/roles';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startPostgres, withClient, type TestPostgres } from '../helpers/postgres';
import { startTestServer, type TestServer } from '../helpers/server';
import { refusedConnection, until } from './helpers';

interface ErrorShape {
  message: string;
  extensions: { code: string; requestId?: string; retryAfter?: number; reason?: string };
}

/** Outages reported as outages: a PostgreSQL server of the test's own, stopped and started again. */
describe('a PostgreSQL outage', () => {
  let pg: TestPostgres;
  let server: TestServer;

  beforeAll(async () => {
    pg = await startPostgres();
    server = await startTestServer({
      database: { name: 'postgres', url: pg.url(), drop: async () => undefined },
      env: { VIGIL_HEALTH_INTERVAL_MS: '250', VIGIL_HEALTH_CACHE_MS: '0', VIGIL_HEALTH_CHECK_TIMEOUT_MS: '2000' },
    });
  }, 60_000);
  afterAll(async () => {
    await pg?.start().catch(() => undefined);
    await server?.close();
    await pg?.destroy();
  });

  it('answers SERVICE_UNAVAILABLE during it (HTTP and websocket), reports DOWN, and raises a database alert once it is back', async () => {
    const admin = await tokenFor(server, Role.ADMIN);
    // Signed in but never used: this session's state is not remembered by the instance.
    const other = await createUser(server, Role.ANALYST);
    const unusedToken = (await signIn(server, other.email, other.password)).accessToken;
    expect((await graphql(server.url, '{ me { id } }', {}, { token: admin })).errors).toBeUndefined();

    // The monitor (not a check run by the test) must see the outage, or no alert is due.
    const seenByMonitor: string[] = [];
    const unlisten = server.services.health.onComponentChange((event) => {
      if (event.component === 'database') seenByMonitor.push(event.status);
    });
    await pg.stop();

    const read = await graphql(server.url, '{ investigations(first: 5) { totalCount } }', {}, { token: admin });
    const write = await graphql(server.url, 'mutation { createInvestigation(input: { title: "during the outage" }) { id } }', {}, { token: admin });
    for (const answer of [read, write]) {
      const error = answer.errors?.[0] as ErrorShape | undefined;
      expect(error?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'DEPENDENCY_UNAVAILABLE' });
      expect(error?.extensions.retryAfter).toBeGreaterThan(0);
      expect(typeof error?.extensions.requestId).toBe('string');
      expect(JSON.stringify(answer)).not.toContain('ECONNREFUSED');
    }

    // A token whose session cannot be checked: the whole request is refused as unavailable.
    const unchecked = await graphql(server.url, '{ me { id } }', {}, { token: unusedToken });
    expect(unchecked.status).toBe(503);
    expect(unchecked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((unchecked.errors?.[0] as ErrorShape).extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(typeof (unchecked.errors?.[0] as ErrorShape).extensions.requestId).toBe('string');

    // Signed-in `health` reports the outage instead of failing.
    const health = await graphql<{ health: { status: string; components: { name: string; status: string }[] } }>(
      server.url,
      '{ health { status components { name status } } }',
      {},
      { token: admin },
    );
    expect(health.errors).toBeUndefined();
    expect(health.data?.health.status).toBe('DOWN');
    expect(health.data?.health.components.find((c) => c.name === 'database')?.status).toBe('DOWN');

    // A websocket whose token cannot be checked is refused with a retryable code and a generic reason.
    expect(await refusedConnection(server.wsUrl, unusedToken)).toEqual({ code: 1013, reason: 'Service unavailable, retry later', acknowledged: false });

    const ready = await fetch(server.url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(503);
    await until(async () => seenByMonitor.includes('DOWN'), 'the monitor to see it');
    unlisten();

    await pg.start();
    const alerts = () =>
      withClient(pg.url(), (c) => c.query<{ fingerprint: string; level: string }>(`select fingerprint, level from alert where fingerprint = 'health:database'`)).then(
        (r) => r.rows,
      );
    await until(async () => (await alerts()).length > 0, 'the database alert to be stored', 30_000);
    expect((await alerts())[0]).toMatchObject({ fingerprint: 'health:database', level: 'ERROR' });
    const after = await graphql<{ investigations: { totalCount: number } }>(server.url, '{ investigations(first: 5) { totalCount } }', {}, { token: admin });
    expect(after.errors).toBeUndefined();
  }, 120_000);

  it('reads a busy pool as DEGRADED, not DOWN, and stays ready', async () => {
    await until(() => server.services.health.check().then((r) => r.status !== 'DOWN'), 'the database to be back');
    const hold = Array.from({ length: server.config.databasePoolMax + server.config.health.dbPoolWaitingDegraded + 1 }, () =>
      server.orm.em.fork().getConnection().execute('select pg_sleep(2)'),
    );
    try {
      await until(() => {
        const pool = server.orm.em.getConnection().getKnex().client.pool as { numPendingAcquires(): number };
        return pool.numPendingAcquires() >= server.config.health.dbPoolWaitingDegraded;
      }, 'callers to wait for connections');
      const report = await server.services.health.runChecks();
      expect(report.components.find((c) => c.name === 'database')?.status).toBe('DEGRADED');
      const ready = await fetch(server.url.replace('/graphql', '/readyz'));
      expect(ready.status).toBe(200);
    } finally {
      await Promise.all(hold);
    }
  }, 60_000);
});
