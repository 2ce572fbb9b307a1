import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/infra/logger';
import { HealthStatus } from '../../src/schema/enums';
import { HEALTH_COMPONENT_CHANGED, type HealthComponentChangedEvent, type HealthReport } from '../../src/services/health/health-check';
import { createServer, type VigilServer } from '../../src/server';
import { startPostgres, withClient, type TestPostgres } from '../helpers/postgres';
import { TEST_QUEUE } from '../helpers/pubsub';
import { startRedis, type TestRedis } from '../helpers/redis';

const CHECK_TIMEOUT_MS = 1000;

describe('health when Redis and the database go away', () => {
  let postgres: TestPostgres;
  let redis: TestRedis;
  let server: VigilServer;
  /** Received through the pub/sub (Redis), as the alerts area receives them. */
  const events: HealthComponentChangedEvent[] = [];
  /** Received in process (also while Redis is down). */
  const localEvents: HealthComponentChangedEvent[] = [];
  let stopListening: (() => void) | undefined;

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    await withClient(postgres.url(), (c) => c.query('CREATE DATABASE vigil'));
    server = await createServer(
      loadConfig({
        NODE_ENV: 'test',
        PORT: '0',
        DATABASE_URL: postgres.url('vigil'),
        REDIS_URL: redis.url,
        VIGIL_REDIS_PREFIX: 'outage:',
        VIGIL_HEALTH_INTERVAL_MS: '200',
        VIGIL_HEALTH_CHECK_TIMEOUT_MS: String(CHECK_TIMEOUT_MS),
        VIGIL_HEALTH_CACHE_MS: '0',
        VIGIL_JWT_SECRET: 'x'.repeat(40),
      }),
      { logger: createLogger('silent') },
    );
    const iterator = server.pubsub.subscribe(HEALTH_COMPONENT_CHANGED, undefined, TEST_QUEUE);
    const stopLocal = server.services.health.onComponentChange((e) => localEvents.push(e));
    let listening = true;
    stopListening = () => {
      listening = false;
      stopLocal();
      void iterator.return?.();
    };
    void (async () => {
      while (listening) {
        const next = await iterator.next();
        if (next.done) return;
        events.push(next.value as HealthComponentChangedEvent);
      }
    })();
  });
  afterAll(async () => {
    stopListening?.();
    await server?.stop();
    await Promise.all([postgres?.destroy(), redis?.stop()]);
  });

  const readyz = () => fetch(server.url.replace('/graphql', '/readyz'));
  const health = () => fetch(server.url.replace('/graphql', '/health'));
  const component = (report: HealthReport, name: string) => report.components.find((c) => c.name === name)!;

  async function waitFor(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  }

  /** Re-checks until `predicate` holds (the monitor and Redis reconnects run on their own clocks). */
  async function until(predicate: (report: HealthReport) => boolean, attempts = 100): Promise<HealthReport> {
    let report = await server.services.health.runChecks();
    for (let i = 0; i < attempts && !predicate(report); i++) {
      await new Promise((r) => setTimeout(r, 100));
      report = await server.services.health.runChecks();
    }
    return report;
  }

  it('starts UP with every component checked', async () => {
    const report = await until((r) => r.status === HealthStatus.UP);
    expect(report.status).toBe(HealthStatus.UP);
    expect(report.components.map((c) => c.name).sort()).toEqual(['auditChain', 'backupTool', 'backups', 'database', 'disk', 'eventLoop', 'maintenance', 'memory', 'redis']);
    expect(component(report, 'database').detail).toMatch(/round trip [\d.]+ ms; pool \d+ in use, \d+ idle, 0 waiting \(max 10\)/);
    expect(component(report, 'memory').observedUnit).toBe('%');
    expect(component(report, 'disk').detail).toMatch(/data [\d.]+% free/);
    expect(component(report, 'eventLoop').detail).toMatch(/delay p99/);
    expect((await readyz()).status).toBe(200);
  });

  it('reports Redis DOWN and the platform DEGRADED while Redis is stopped; readiness holds', async () => {
    await redis.stop();
    const report = await until((r) => component(r, 'redis').status === HealthStatus.DOWN);
    expect(component(report, 'redis').status).toBe(HealthStatus.DOWN);
    expect(component(report, 'redis').latencyMs).toBeLessThanOrEqual(CHECK_TIMEOUT_MS + 250);
    expect(report.status).toBe(HealthStatus.DEGRADED);
    expect((await readyz()).status).toBe(200);
    const body = (await (await health()).json()) as { status: string };
    expect(body.status).toBe('warn');
    await waitFor(() => localEvents.some((e) => e.component === 'redis' && e.status === HealthStatus.DOWN));
    expect(localEvents).toContainEqual(
      expect.objectContaining({ component: 'redis', status: HealthStatus.DOWN, previous: HealthStatus.UP, detail: expect.any(String), critical: false }),
    );
  });

  it('reports Redis UP again once it is back', async () => {
    await redis.start();
    const report = await until((r) => component(r, 'redis').status === HealthStatus.UP, 200);
    expect(component(report, 'redis').status).toBe(HealthStatus.UP);
    expect(report.status).toBe(HealthStatus.UP);
  });

  it('reports the database DOWN within the check timeout, /readyz 503 and /health fail', async () => {
    await postgres.stop();
    const report = await until((r) => component(r, 'database').status === HealthStatus.DOWN);
    const database = component(report, 'database');
    expect(database.status).toBe(HealthStatus.DOWN);
    expect(database.latencyMs).toBeLessThanOrEqual(CHECK_TIMEOUT_MS + 250);
    expect(report.status).toBe(HealthStatus.DOWN);
    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not ready', down: [{ name: 'database' }] });
    const res = await health();
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/health\+json/);
    expect(await res.json()).toMatchObject({ status: 'fail' });
  });

  it('publishes HEALTH_COMPONENT_CHANGED on the pub/sub for the database going DOWN', async () => {
    await waitFor(() => events.some((e) => e.component === 'database' && e.status === HealthStatus.DOWN));
    expect(events).toContainEqual(
      expect.objectContaining({ component: 'database', status: HealthStatus.DOWN, previous: HealthStatus.UP, critical: true, instanceId: expect.any(String) }),
    );
  });

  it('recovers when the database is back, and publishes the change', async () => {
    await postgres.start();
    const report = await until((r) => r.status === HealthStatus.UP, 200);
    expect(report.status).toBe(HealthStatus.UP);
    expect((await readyz()).status).toBe(200);
    await waitFor(() => events.some((e) => e.component === 'database' && e.status === HealthStatus.UP && e.previous === HealthStatus.DOWN));
    expect(events).toContainEqual(expect.objectContaining({ component: 'database', status: HealthStatus.UP, previous: HealthStatus.DOWN }));
  });
});
