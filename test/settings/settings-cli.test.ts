import { lastAuditEntry } from '../helpers/audit';
import { testRedisUrl } from '../helpers/database';
import { startTestServer, type TestServer } from '../helpers/server';
import { runVigil } from '../cli/run-vigil';
import { until } from './helpers';

describe('vigil settings get|set|history', () => {
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_HEALTH_INTERVAL_MS: '0' } });
    env = { DATABASE_URL: server.database.url, REDIS_URL: testRedisUrl(), VIGIL_REDIS_PREFIX: server.config.redisPrefix, LOG_LEVEL: 'error' };
  });
  afterAll(() => server?.close());

  it('sets a value that the running gateway applies, audited as the system, and lists it with its source and in the history', async () => {
    const set = await runVigil(['settings', 'set', 'protection.userRequestLimit=4321', 'retention.backupSchedule=0 4 * * *'], env);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/settings now at version \d+/);
    await until(() => server.services.settings.values.protection.userRequestLimit === 4321, 'the gateway to apply the change', 2000);
    expect(server.services.settings.values.retention.backupSchedule).toBe('0 4 * * *');
    const entry = await lastAuditEntry(server, { action: 'SYSTEM_SETTINGS_UPDATE' });
    expect(entry).toMatchObject({ actorId: null, operationName: 'cli:settings:set', changes: { after: { 'protection.userRequestLimit': 4321 } } });

    const get = await runVigil(['settings', 'get', '--json'], env);
    expect(get.code).toBe(0);
    const listed = JSON.parse(get.stdout) as { version: number; settings: { key: string; effective: unknown; source: string }[] };
    expect(listed.settings).toEqual(expect.arrayContaining([{ key: 'protection.userRequestLimit', effective: 4321, source: 'STORED', variable: 'VIGIL_RATE_LIMIT_USER' }]));

    const history = await runVigil(['settings', 'history', '--first', '1'], env);
    expect(history.code).toBe(0);
    expect(history.stdout).toContain('protection.userRequestLimit: 100000 → 4321');

    const reset = await runVigil(['settings', 'set', 'protection.userRequestLimit=default', '--expected-version', String(listed.version)], env);
    expect(reset.code).toBe(0);
    await until(() => server.services.settings.values.protection.userRequestLimit === 100_000, 'the gateway to apply the reset', 2000);
  }, 90_000);

  it('refuses an out-of-range value (exit 2) and a stale version (exit 1) and changes nothing', async () => {
    const before = server.services.settings.current().version;
    const bad = await runVigil(['settings', 'set', 'identity.lockoutThreshold=0'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('identity.lockoutThreshold must be an integer between 1 and 1000');
    const stale = await runVigil(['settings', 'set', 'identity.lockoutThreshold=7', '--expected-version', String(before - 1)], env);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('changed since version');
    expect((await server.services.settings.refresh()).version).toBe(before);
  }, 90_000);

  it('turns maintenance on and off', async () => {
    const on = await runVigil(['settings', 'set', '--maintenance', 'on', '--message', 'Moving racks'], env);
    expect(on.code).toBe(0);
    await until(() => server.services.settings.current().maintenance.enabled, 'maintenance on the gateway', 2000);
    expect(server.services.settings.current().maintenance.message).toBe('Moving racks');
    const off = await runVigil(['settings', 'set', '--maintenance', 'off'], env);
    expect(off.code).toBe(0);
    await until(() => !server.services.settings.current().maintenance.enabled, 'maintenance off on the gateway', 2000);
  }, 90_000);
});
