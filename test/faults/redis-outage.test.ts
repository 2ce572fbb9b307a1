import { systemMeta } from '../../src/context';
import { AlertLevel } from '../../src/entities/alert.entity';
import { Role } from '../../src/permissions/roles';
import { tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startTestServer, type TestServer } from '../helpers/server';
import { rawConnection, until } from './helpers';

const QUIET = { VIGIL_HEALTH_INTERVAL_MS: '0' };

/**
 * Pub/sub heals: channel subscriptions are retried until Redis answers, whenever the instance
 * started or the first listener came, and what travelled only by pub/sub during an outage is caught
 * up from PostgreSQL.
 */
describe('Redis outages between two instances', () => {
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    a = await startTestServer({ env: { ...QUIET, REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await redis?.start().catch(() => undefined);
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  it('an instance started during the outage delivers revocations, alerts and per-id events once Redis is back', async () => {
    const revoked = await tokenFor(a, Role.ANALYST);
    const watcher = await tokenFor(a, Role.ANALYST);
    const created = await graphql<{ createInvestigation: { id: string } }>(
      a.url,
      'mutation { createInvestigation(input: { title: "watched through an outage" }) { id } }',
      {},
      { token: watcher },
    );
    const investigationId = created.data!.createInvestigation.id;

    await redis.stop();
    b = await startTestServer({ database: a.database, redisPrefix: a.config.redisPrefix, env: { ...QUIET, REDIS_URL: redis.url } });
    expect(b.pubsub.connected).toBe(false);

    // Everything on B is opened while Redis is down: the session-event channel, the alert feed's
    // channels and a per-investigation channel no listener had before.
    const doomed = await rawConnection(b.wsUrl, revoked);
    const client = wsClient(b.wsUrl, watcher);
    const investigationEvents = subscribe(client, `subscription ($id: ID!) { investigationUpdated(id: $id) { id title } }`, { id: investigationId });
    const alertEvents = subscribe(client, 'subscription { alertRaised { id title } }', {});
    try {
      await until(() => b!.services.alerts.feed.subscriberCount === 1, 'the alert subscription on B');

      await redis.start();
      await until(() => b!.pubsub.connected && a.pubsub.connected, 'both instances to subscribe their channels again', 20_000);

      // A per-id event, only ever carried by pub/sub.
      const renamed = await graphql(
        a.url,
        'mutation ($id: ID!) { updateInvestigation(id: $id, expectedVersion: 1, input: { title: "renamed after the outage" }) { id } }',
        { id: investigationId },
        { token: watcher },
      );
      expect(renamed.errors).toBeUndefined();
      expect((await investigationEvents.next(15_000)).data).toEqual({ investigationUpdated: { id: investigationId, title: 'renamed after the outage' } });

      const alert = (await a.services.alerts.raise(systemMeta('test'), { level: AlertLevel.ERROR, title: 'after the outage', source: 'faults' })).alert;
      expect((await alertEvents.next(15_000)).data).toEqual({ alertRaised: { id: alert.id, title: 'after the outage' } });

      // A revocation on A closes the socket on B.
      const logout = await graphql<{ logout: boolean }>(a.url, 'mutation { logout }', {}, { token: revoked });
      expect(logout.data).toEqual({ logout: true });
      expect((await doomed.closed).code).toBe(4401);
    } finally {
      doomed.socket.terminate();
      await investigationEvents.close();
      await alertEvents.close();
      await client.dispose();
    }
  }, 120_000);

  it('acknowledgements and revocations made during an outage reach the other instance once Redis is back', async () => {
    const other = b!;
    await until(() => other.pubsub.connected && a.pubsub.connected, 'both instances connected');
    const analyst = await tokenFor(a, Role.ANALYST);
    const revoked = await tokenFor(a, Role.ANALYST);
    const alert = (await a.services.alerts.raise(systemMeta('test'), { level: AlertLevel.WARNING, title: 'acknowledged during the outage', source: 'faults' })).alert;

    const doomed = await rawConnection(other.wsUrl, revoked);
    const client = wsClient(other.wsUrl, analyst);
    const updates = subscribe(client, 'subscription { alertUpdated { id status } }', {});
    try {
      await until(() => other.services.alerts.feed.subscriberCount >= 1, 'the alertUpdated subscription on B');
      await redis.stop();
      await until(() => !other.pubsub.connected && !a.pubsub.connected, 'both instances to notice the outage');

      const ack = await graphql<{ acknowledgeAlert: { status: string } }>(
        a.url,
        'mutation ($id: ID!) { acknowledgeAlert(id: $id) { status } }',
        { id: alert.id },
        { token: analyst },
      );
      expect(ack.data).toEqual({ acknowledgeAlert: { status: 'ACKNOWLEDGED' } });
      const logout = await graphql<{ logout: boolean }>(a.url, 'mutation { logout }', {}, { token: revoked });
      expect(logout.data).toEqual({ logout: true });

      let closedWith: number | undefined;
      void doomed.closed.then((c) => (closedWith = c.code));
      await redis.start();
      // Catching up is at-least-once: alerts changed shortly before the outage may come again.
      let seen: { id: string; status: string } | undefined;
      while (seen?.id !== alert.id) seen = ((await updates.next(20_000)).data as { alertUpdated: { id: string; status: string } }).alertUpdated;
      expect(seen).toEqual({ id: alert.id, status: 'ACKNOWLEDGED' });
      await until(() => closedWith !== undefined, 'the revoked session’s socket to be closed', 30_000);
      expect(closedWith).toBe(4401);
    } finally {
      doomed.socket.terminate();
      await updates.close();
      await client.dispose();
    }
  }, 180_000);

  it('answers signed-in requests, sign-out included, while Redis hangs without closing its connections', async () => {
    const token = await tokenFor(a, Role.ANALYST);
    expect((await graphql(a.url, '{ me { id } }', {}, { token })).errors).toBeUndefined();
    redis.freeze();
    try {
      // Every answer below would wait for ever on a Redis read without a bound.
      const me = await graphql<{ me: { id: string } }>(a.url, '{ me { id } }', {}, { token });
      expect(me.data?.me.id).toEqual(expect.any(String));
      const out = await graphql<{ logout: boolean }>(a.url, 'mutation { logout }', {}, { token });
      expect(out.data?.logout).toBe(true);
      const after = await graphql(a.url, '{ me { id } }', {}, { token });
      expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      redis.thaw();
    }
  }, 60_000);
});
