import { Redis } from 'ioredis';
import { VigilCache } from '../../src/infra/cache';
import { createLogger } from '../../src/infra/logger';
import { createMetrics } from '../../src/infra/metrics';
import { normalizeStatement, SlowStatementTracker } from '../../src/infra/slow-statements';
import { HealthStatus } from '../../src/schema/enums';
import { auditChainCheck, backupFreshnessCheck, backupToolCheck, diskCheck, eventLoopCheck, memoryCheck } from '../../src/services/health/checks';
import { HealthService } from '../../src/services/health/health.service';
import { startRedis, type TestRedis } from '../helpers/redis';

const signal = new AbortController().signal;
const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
const logger = createLogger('silent');

describe('health components', () => {
  it('memory is UP below the limit share and DOWN above it', async () => {
    const rss = process.memoryUsage().rss;
    expect((await memoryCheck({ limitBytes: 0, degradedPercent: 99, downPercent: 100 }).run(signal)).status).toBe(HealthStatus.UP);
    const tight = await memoryCheck({ limitBytes: Math.floor(rss / 2), degradedPercent: 85, downPercent: 95 }).run(signal);
    expect(tight.status).toBe(HealthStatus.DOWN);
    expect(tight.detail).toMatch(/rss \d+ MiB/);
  });

  it('event loop delay is DEGRADED when the loop was blocked beyond the threshold', async () => {
    const check = eventLoopCheck({ degradedMs: 30, downMs: 10_000 });
    try {
      await new Promise((r) => setTimeout(r, 60));
      const started = Date.now();
      while (Date.now() - started < 120) {
        // Blocks the loop on purpose: the histogram must see the delay.
      }
      await new Promise((r) => setTimeout(r, 60));
      const blocked = await check.run(signal);
      expect(blocked.status).toBe(HealthStatus.DEGRADED);
      expect(blocked.observedValue).toBeGreaterThanOrEqual(30);
    } finally {
      check.stop?.();
    }
  });

  it('disk space is judged on the fullest of the directories, even one not created yet', async () => {
    const ok = await diskCheck({ data: '/tmp', backups: '/tmp/not/there/yet' }, { freeDegradedPercent: 0, freeDownPercent: 0 }).run(signal);
    expect(ok.status).toBe(HealthStatus.UP);
    expect(ok.detail).toMatch(/data [\d.]+% free .*backups [\d.]+% free/);
    const full = await diskCheck({ data: '/tmp' }, { freeDegradedPercent: 100, freeDownPercent: 100 }).run(signal);
    expect(full.status).toBe(HealthStatus.DOWN);
  });

  it('backup freshness follows the age of the last successful backup', async () => {
    const thresholds = { degradedHours: 26, downHours: 72 };
    const at = (d: Date | null) => backupFreshnessCheck({ lastSuccessfulBackupAt: async () => d }, thresholds);
    expect((await at(hoursAgo(1)).run(signal)).status).toBe(HealthStatus.UP);
    expect((await at(hoursAgo(30)).run(signal)).status).toBe(HealthStatus.DEGRADED);
    expect((await at(hoursAgo(80)).run(signal)).status).toBe(HealthStatus.DOWN);
    expect((await at(null).run(signal)).status).toBe(HealthStatus.UP);
    const neverSinceLongAgo = backupFreshnessCheck({ lastSuccessfulBackupAt: async () => null }, thresholds, hoursAgo(30));
    expect(await neverSinceLongAgo.run(signal)).toMatchObject({ status: HealthStatus.DEGRADED, detail: expect.stringMatching(/no successful backup yet/) });
  });

  it('audit chain is DOWN when the last verification found a break and DEGRADED when stale', async () => {
    const check = (v: { ok: boolean; at: Date; firstBrokenSeq?: string | null } | null) => auditChainCheck({ lastVerification: () => v }, { maxAgeHours: 25 });
    expect((await check({ ok: true, at: hoursAgo(1) }).run(signal)).status).toBe(HealthStatus.UP);
    expect(await check({ ok: false, at: hoursAgo(1), firstBrokenSeq: '42' }).run(signal)).toMatchObject({
      status: HealthStatus.DOWN,
      detail: expect.stringMatching(/seq 42/),
    });
    expect((await check({ ok: true, at: hoursAgo(30) }).run(signal)).status).toBe(HealthStatus.DEGRADED);
  });

  it('a hanging check is DOWN after its own timeout while the others answer', async () => {
    const service = new HealthService({
      checks: [
        { name: 'hangs', critical: false, run: () => new Promise(() => undefined) },
        { name: 'fine', critical: true, run: async () => ({ status: HealthStatus.UP }) },
      ],
      checkTimeoutMs: 100,
      cacheMs: 0,
      intervalMs: 0,
      logger,
    });
    const report = await service.runChecks();
    expect(report.components.find((c) => c.name === 'hangs')).toMatchObject({ status: HealthStatus.DOWN, detail: 'no answer within 100 ms' });
    expect(report.status).toBe(HealthStatus.DEGRADED);
  });
});

describe('the response/entity cache', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => undefined);
    await redis.ping();
  });
  afterAll(async () => {
    await redis.quit().catch(() => redis.disconnect());
    await redisServer.stop();
  });

  it('is shared through Redis, counts hits, misses and invalidations', async () => {
    const metrics = createMetrics();
    const a = new VigilCache({ redis, prefix: 'c1:', maxEntries: 10, metrics, logger });
    const b = new VigilCache({ redis, prefix: 'c1:', maxEntries: 10, logger });
    let loads = 0;
    const load = async () => ({ n: ++loads });
    expect(await a.getOrLoad('k', 10_000, load)).toEqual({ n: 1 });
    expect(await b.getOrLoad('k', 10_000, load)).toEqual({ n: 1 });
    await b.invalidate('k');
    expect(await a.getOrLoad('k', 10_000, load)).toEqual({ n: 2 });
    expect(a.stats()).toEqual({ enabled: true, hits: 0, misses: 2, hitRatePercent: 0, invalidations: 0, redisConnected: true });
    expect(b.stats()).toMatchObject({ hits: 1, misses: 0, hitRatePercent: 100, invalidations: 1 });
    expect((await metrics.cacheMisses.get()).values.find((v) => v.labels.layer === 'redis')?.value).toBe(2);
  });

  it('falls back to the in-process LRU while Redis is down, and reports it', async () => {
    const cache = new VigilCache({ redis, prefix: 'c2:', maxEntries: 2, logger });
    await redisServer.stop();
    for (let i = 0; i < 50 && redis.status === 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(cache.stats().redisConnected).toBe(false);
    expect(await cache.getOrLoad('x', 10_000, async () => 'first')).toBe('first');
    expect(await cache.getOrLoad('x', 10_000, async () => 'second')).toBe('first');
    await cache.set('y', 1, 10_000);
    await cache.set('z', 2, 10_000);
    expect(await cache.get('x')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
    await redisServer.start();
  });

  it('is off with maxEntries 0: every read loads', async () => {
    const cache = new VigilCache({ prefix: 'c3:', maxEntries: 0, logger });
    let loads = 0;
    await cache.getOrLoad('k', 1000, async () => ++loads);
    await cache.getOrLoad('k', 1000, async () => ++loads);
    expect(loads).toBe(2);
    expect(cache.stats().enabled).toBe(false);
  });
});

describe('slow statements', () => {
  it('keeps the shape of a statement without its values', () => {
    const sql = `insert into "user" ("id", "email") values ('93fd-b2', 'o''brien@example.org') returning "id"`;
    expect(normalizeStatement(sql)).toBe('insert into "user" ("id", "email") values (?, …) returning "id"');
    expect(normalizeStatement(`select * from t0 where t0.n = 42 and t0.s = E'x\\'y' and t0.d = $$raw$$ limit 10`)).toBe(
      'select * from t0 where t0.n = ? and t0.s = ? and t0.d = ? limit ?',
    );
  });

  it('keeps the N slowest statement shapes above the threshold, folding repeats', () => {
    const tracker = new SlowStatementTracker(10, 2);
    tracker.record("select 1 where a = 'x'", 5);
    tracker.record("select 1 where a = 'x'", 15);
    tracker.record("select 1 where a = 'y'", 25);
    tracker.record('select 2', 50);
    tracker.record('select 3', 12);
    const top = tracker.top();
    expect(top.map((s) => s.statement)).toEqual(['select ?', 'select ? where a = ?']);
    expect(top[1]).toMatchObject({ count: 2, maxMs: 25, meanMs: 20 });
  });
});

describe('backup tool component', () => {
  const signal = new AbortController().signal;

  it('is UP with the tool it found', async () => {
    const check = backupToolCheck({ backupTool: async () => ({ available: true, detail: 'pg_dump (PostgreSQL) 15.18 at /usr/bin/pg_dump' }) });
    await expect(check.run(signal)).resolves.toEqual({ status: HealthStatus.UP, detail: 'pg_dump (PostgreSQL) 15.18 at /usr/bin/pg_dump' });
  });

  it('is DEGRADED without a matching pg_dump and says what to install', async () => {
    const check = backupToolCheck({
      backupTool: async () => ({ available: false, detail: 'no pg_dump 15 found: apt-get install postgresql-client-15' }),
    });
    const outcome = await check.run(signal);
    expect(outcome.status).toBe(HealthStatus.DEGRADED);
    expect(outcome.detail).toContain('apt-get install postgresql-client-15');
    expect(check.critical).toBe(false);
  });
});
