import { systemMeta } from '../../src/context';
import { AlertLevel } from '../../src/entities/alert.entity';
import { Role } from '../../src/permissions/roles';
import { AlertRaisedDocument } from '../generated/graphql';
import { tokenFor } from '../helpers/auth';
import { subscribe, wsClient } from '../helpers/clients';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startTestServer, type TestServer } from '../helpers/server';
import { QUIET_ENV, until } from './helpers';

describe('alerts while Redis goes away and comes back', () => {
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    a = await startTestServer({ env: { ...QUIET_ENV, REDIS_URL: redis.url } });
    b = await startTestServer({ database: a.database, redisPrefix: a.config.redisPrefix, env: { ...QUIET_ENV, REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  it('keeps the subscriber on A connected and brings it, in order, the alerts B raised during and after the outage', async () => {
    const token = await tokenFor(a, Role.VIEWER);
    const client = wsClient(a.wsUrl, token);
    const events = subscribe(client, AlertRaisedDocument, {});
    const raiseOnB = async (title: string) => (await b.services.alerts.raise(systemMeta('test'), { level: AlertLevel.ERROR, title, source: 'outage-test' })).alert;
    try {
      await until(() => a.services.alerts.feed.subscriberCount === 1, 'the subscription to be registered');
      const before = await raiseOnB('before the outage');
      expect((await events.next()).data!.alertRaised.id).toBe(before.id);

      await redis.stop();
      const during = [await raiseOnB('during the outage 1'), await raiseOnB('during the outage 2')];
      // Not announced (Redis is down): A's feed finds them in the database.
      expect((await events.next(15_000)).data!.alertRaised.id).toBe(during[0]!.id);
      expect((await events.next(15_000)).data!.alertRaised.id).toBe(during[1]!.id);

      await redis.start();
      await until(() => b.services.health.check().then((r) => r.components.find((c) => c.name === 'redis')?.status === 'UP'), 'B to reach Redis again', 20_000);
      const after = await raiseOnB('after the outage');
      expect((await events.next(15_000)).data!.alertRaised.id).toBe(after.id);
    } finally {
      await events.close();
      await client.dispose();
    }
  }, 90_000);
});
