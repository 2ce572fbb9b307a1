import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Role } from '../../src/permissions/roles';
import { createUser, signIn } from '../helpers/auth';
import { startGatewayProcess } from '../helpers/gateway-process';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startTestServer, type TestServer } from '../helpers/server';
import { openConnection, type RawConnection } from './edge-helpers';

const CAPS = {
  VIGIL_TRUST_PROXY: '127.0.0.1',
  VIGIL_RATE_LIMIT_ENABLED: 'false',
  VIGIL_HEALTH_INTERVAL_MS: '0',
  VIGIL_WS_MAX_CONNECTIONS_PER_IP: '3',
  VIGIL_WS_MAX_CONNECTIONS_PER_USER: '2',
};

const closeAll = (connections: RawConnection[]) => Promise.all(connections.map((c) => c.close()));

/**
 * The websocket connection caps hold for the cluster, not per instance: two gateways sharing
 * Redis count one IP's (and one user's) connections together, a burst split over both included;
 * the slots of an instance that died run out with their lease; while Redis is away each instance
 * still caps on its own.
 */
describe('websocket connection caps across instances', () => {
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;
  let inspect: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    a = await startTestServer({ env: { ...CAPS, REDIS_URL: redis.url } });
    b = await startTestServer({ database: a.database, redisPrefix: a.config.redisPrefix, env: { ...CAPS, REDIS_URL: redis.url } });
    inspect = new Redis(redis.url);
  }, 60_000);
  afterAll(async () => {
    inspect?.disconnect();
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  /** Waits until the gateways gave slots back (they do so as the close reaches them). */
  async function slotsDropTo(key: string, count: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    while ((await inspect.zcard(key)) > count) {
      if (Date.now() > deadline) throw new Error(`${key} still holds more than ${count} slots`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('caps one IP for both instances, in a simultaneous burst split over them', async () => {
    const ip = '198.51.100.40';
    const connections = await Promise.all(
      Array.from({ length: 8 }, (_, i) => openConnection((i % 2 ? b : a).wsUrl, { ip })),
    );
    expect(connections.filter((c) => c.acked)).toHaveLength(3);
    expect(new Set(connections.filter((c) => !c.acked).map((c) => c.closeCode))).toEqual(new Set([4029]));
    // A slot given back on one instance is free on the other.
    const onA = connections.find((c) => c.acked)!;
    await onA.close();
    await slotsDropTo(`${a.config.redisPrefix}ws:connections:ip:${ip}`, 2);
    const next = await openConnection(b.wsUrl, { ip });
    expect(next.acked).toBe(true);
    const over = await openConnection(a.wsUrl, { ip });
    expect([over.acked, over.closeCode]).toEqual([false, 4029]);
    await closeAll([...connections, next, over]);
  });

  it('caps one signed-in user for both instances, from any address', async () => {
    const user = await createUser(a, Role.ANALYST);
    const token = (await signIn(a, user.email, user.password)).accessToken;
    const connections = await Promise.all([
      openConnection(a.wsUrl, { ip: '198.51.100.50', token }),
      openConnection(b.wsUrl, { ip: '198.51.100.51', token }),
      openConnection(a.wsUrl, { ip: '198.51.100.52', token }),
      openConnection(b.wsUrl, { ip: '198.51.100.53', token }),
    ]);
    expect(connections.filter((c) => c.acked)).toHaveLength(2);
    expect(connections.filter((c) => !c.acked).map((c) => c.closeCode)).toEqual([4029, 4029]);
    await closeAll(connections);
  });

  it('counts the connections of an instance killed mid-connection until their lease runs out, then frees them', async () => {
    const ip = '198.51.100.90';
    const key = `${a.config.redisPrefix}ws:connections:ip:${ip}`;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-killed-'));
    const killed = await startGatewayProcess({
      env: {
        ...CAPS,
        NODE_ENV: 'test',
        DATABASE_URL: a.database.url,
        REDIS_URL: redis.url,
        VIGIL_REDIS_PREFIX: a.config.redisPrefix,
        VIGIL_DATA_DIR: dataDir,
        VIGIL_WS_SLOT_LEASE_SECONDS: '2',
      },
    });
    try {
      const wsUrl = killed.url.replace('http', 'ws');
      const held = await Promise.all(Array.from({ length: 3 }, () => openConnection(wsUrl, { ip })));
      expect(held.map((c) => c.acked)).toEqual([true, true, true]);
      killed.child.kill('SIGKILL');
      await killed.exited;
      // No clean shutdown gave the slots back: the other instances still count them …
      expect(await inspect.zcard(key)).toBe(3);
      const refused = await openConnection(a.wsUrl, { ip });
      expect([refused.acked, refused.closeCode]).toEqual([false, 4029]);
      // … until the lease the dead instance no longer renews runs out.
      const deadline = Date.now() + 15_000;
      let accepted: RawConnection | undefined;
      while (!accepted?.acked) {
        if (Date.now() > deadline) throw new Error('the dead instance’s slots were never freed');
        await new Promise((r) => setTimeout(r, 200));
        accepted = await openConnection(b.wsUrl, { ip });
      }
      await accepted.close();
    } finally {
      await killed.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('drops slots whose lease ended before counting', async () => {
    const ip = '198.51.100.60';
    // What a killed instance leaves behind: three slots of this IP whose lease ended a moment ago.
    const key = `${a.config.redisPrefix}ws:connections:ip:${ip}`;
    const [seconds] = await inspect.time();
    const past = Number(seconds) * 1000 - 1;
    await inspect.zadd(key, past, 'dead-1', past, 'dead-2', past, 'dead-3');
    const connection = await openConnection(a.wsUrl, { ip });
    expect(connection.acked).toBe(true);
    expect(await inspect.zscore(key, 'dead-1')).toBeNull();
    await connection.close();
    // And slots still leased (a live instance's) are counted.
    const [now] = await inspect.time();
    const future = Number(now) * 1000 + 60_000;
    await inspect.zadd(key, future, 'live-1', future, 'live-2', future, 'live-3');
    const refused = await openConnection(b.wsUrl, { ip });
    expect([refused.acked, refused.closeCode]).toEqual([false, 4029]);
    await inspect.del(key);
  });

  it('gives every slot back when the connections close, on both instances', async () => {
    const ip = '198.51.100.70';
    const key = `${a.config.redisPrefix}ws:connections:ip:${ip}`;
    const connections = await Promise.all([openConnection(a.wsUrl, { ip }), openConnection(b.wsUrl, { ip })]);
    expect(connections.map((c) => c.acked)).toEqual([true, true]);
    expect(await inspect.zcard(key)).toBe(2);
    await closeAll(connections);
    await slotsDropTo(key, 0);
    expect(await inspect.zcard(key)).toBe(0);
  });

  it('still caps per instance while Redis is away, and counts for the cluster again once it is back', async () => {
    const ip = '198.51.100.80';
    await redis.stop();
    try {
      const onA = await Promise.all(Array.from({ length: 4 }, () => openConnection(a.wsUrl, { ip })));
      expect(onA.filter((c) => c.acked)).toHaveLength(3);
      expect(onA.filter((c) => !c.acked).map((c) => c.closeCode)).toEqual([4029]);
      await closeAll(onA);
    } finally {
      await redis.start();
    }
    // Back: the cap is shared again (the breaker lets a trial through after its cool-down).
    const deadline = Date.now() + 30_000;
    let shared = false;
    while (!shared && Date.now() < deadline) {
      const burst = await Promise.all(Array.from({ length: 4 }, (_, i) => openConnection((i % 2 ? b : a).wsUrl, { ip })));
      shared = burst.filter((c) => c.acked).length === 3 && (await inspect.zcard(`${a.config.redisPrefix}ws:connections:ip:${ip}`)) === 3;
      await closeAll(burst);
      if (!shared) await new Promise((r) => setTimeout(r, 250));
    }
    expect(shared).toBe(true);
  }, 60_000);
});
