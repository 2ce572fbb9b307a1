import { Role } from '../../src/permissions/roles';
import { createUser, tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { readSettings, until, updateSettings } from './helpers';

const QUIET = { VIGIL_HEALTH_INTERVAL_MS: '0', VIGIL_BACKUP_SCHEDULE: 'off', VIGIL_BACKUP_DRILL_SCHEDULE: 'off' };

const CHANGED = /* GraphQL */ `
  subscription Changed { systemSettingsChanged { version protection { anonymousRequestLimit { effective source } } } }
`;

const LOGIN = /* GraphQL */ `
  mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }
`;

describe('settings applied live on another instance', () => {
  let a: TestServer;
  let b: TestServer;
  let superAdmin: string;
  let adminOnB: string;

  beforeAll(async () => {
    a = await startTestServer({ env: QUIET });
    b = await startTestServer({ database: a.database, redisPrefix: a.config.redisPrefix, env: QUIET });
    superAdmin = await tokenFor(a, Role.SUPER_ADMIN);
    adminOnB = await tokenFor(b, Role.ADMIN);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('lowering the anonymous request limit on A is enforced by B within a second, told to B’s subscribers, without dropping their websocket', async () => {
    const client = wsClient(b.wsUrl, adminOnB);
    const changes = subscribe<{ systemSettingsChanged: { version: number; protection: { anonymousRequestLimit: { effective: number; source: string } } } }>(
      client,
      CHANGED,
    );
    const anonymousOnB = () => graphql(b.url, '{ health { status } }');
    try {
      // The current settings come first: the subscription is open.
      const current = await changes.next(5000);
      expect(current.data?.systemSettingsChanged.protection.anonymousRequestLimit.source).not.toBe('STORED');
      expect((await anonymousOnB()).errors).toBeUndefined();
      const lowered = await updateSettings(a.url, superAdmin, { protection: { anonymousRequestLimit: 2 } });
      expect(lowered.errors).toBeUndefined();
      const tookMs = await until(async () => (await anonymousOnB()).errors?.[0]?.extensions?.code === 'RATE_LIMITED', 'B to limit anonymous requests', 1000);
      expect(tookMs).toBeLessThanOrEqual(1000);
      const limited = await anonymousOnB();
      expect(limited.status).toBe(429);
      expect(limited.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });

      const event = await changes.next(5000);
      expect(event.data?.systemSettingsChanged.protection.anonymousRequestLimit).toEqual({ effective: 2, source: 'STORED' });

      const reset = await updateSettings(a.url, superAdmin, { protection: { anonymousRequestLimit: null } });
      expect(reset.errors).toBeUndefined();
      // The same websocket, still open, hears the reset too.
      const again = await changes.next(5000);
      expect(again.data?.systemSettingsChanged.protection.anonymousRequestLimit.source).not.toBe('STORED');
      await until(async () => (await anonymousOnB()).errors === undefined, 'B to admit anonymous requests again', 1000);
    } finally {
      await changes.close();
      await client.dispose();
    }
  }, 30_000);

  it('a lower lockout threshold set on A locks an account on B at the new threshold', async () => {
    const user = await createUser(b, Role.VIEWER);
    const changed = await updateSettings(a.url, superAdmin, { identity: { lockoutThreshold: 2 } });
    expect(changed.errors).toBeUndefined();
    await until(() => b.services.settings.values.identity.lockoutThreshold === 2, 'B to apply the lockout threshold', 1000);
    try {
      for (let i = 0; i < 2; i++) {
        const wrong = await graphql(b.url, LOGIN, { email: user.email, password: `wrong-${i}-password` });
        expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
      const right = await graphql(b.url, LOGIN, { email: user.email, password: user.password });
      expect(right.errors?.[0]?.extensions?.code).toBe('ACCOUNT_LOCKED');
    } finally {
      await updateSettings(a.url, superAdmin, { identity: { lockoutThreshold: null } });
    }
  }, 30_000);

  it('a backup schedule set on A is armed on the running instances without a restart, and `off` disarms it', async () => {
    const scheduled = async () => {
      const rows = await a.orm.em.fork().getConnection().execute<{ n: number }[]>(`select count(*)::int as n from backup where trigger = 'SCHEDULED'`);
      return rows[0]!.n;
    };
    const before = await scheduled();
    const armed = await updateSettings(a.url, superAdmin, { retention: { backupSchedule: '*/2 * * * * *' } });
    expect(armed.errors).toBeUndefined();
    try {
      await until(async () => (await scheduled()) > before, 'a scheduled backup', 15_000);
    } finally {
      const off = await updateSettings(a.url, superAdmin, { retention: { backupSchedule: 'off' } });
      expect(off.errors).toBeUndefined();
    }
    await until(() => b.services.settings.values.retention.backupSchedule === 'off', 'B to disarm', 1000);
    await a.services.backups.idle();
    await b.services.backups.idle();
    const settled = await scheduled();
    // Two more schedule slots pass: nothing new is scheduled once it is off.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect(await scheduled()).toBe(settled);
    expect((await readSettings(b.url, adminOnB)).retention).toMatchObject({ backupSchedule: { effective: 'off', source: 'STORED' } });
  }, 60_000);
});
