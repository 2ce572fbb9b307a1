import { Role } from '../../src/permissions/roles';
import { lastAuditEntry } from '../helpers/audit';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { readSettings, until, UPDATE_SETTINGS, updateSettings } from './helpers';

const HISTORY = /* GraphQL */ `
  query History($first: Int, $after: String) {
    systemSettingsHistory(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id version at actorEmail actor { id } changes { key before after beforeSource afterSource } } }
    }
  }
`;

type HistoryData = {
  systemSettingsHistory: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: { version: number; actorEmail: string | null; actor: { id: string } | null; changes: { key: string; before: unknown; after: unknown; beforeSource: string; afterSource: string }[] } }[];
  };
};

describe('systemSettings and updateSystemSettings', () => {
  let server: TestServer;
  let superAdmin: string;
  let admin: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_RATE_LIMIT_ANONYMOUS: '5000', VIGIL_HEALTH_INTERVAL_MS: '0' } });
    superAdmin = await tokenFor(server, Role.SUPER_ADMIN);
    admin = await tokenFor(server, Role.ADMIN);
  });
  afterAll(() => server?.close());

  it('shows each value with its source, its boot value and its range', async () => {
    const settings = await readSettings(server.url, admin);
    expect(settings).toMatchObject({
      protection: {
        anonymousRequestLimit: { effective: 5000, source: 'ENVIRONMENT', defaultValue: 5000, min: 1, max: 1_000_000, variable: 'VIGIL_RATE_LIMIT_ANONYMOUS' },
      },
      alerts: { cooldownSeconds: { effective: 300, source: 'DEFAULT' }, logMinLevel: { effective: 'INFO', source: 'DEFAULT' } },
      retention: { backupSchedule: { effective: '0 1 * * *', source: 'DEFAULT' } },
      maintenance: { enabled: false, since: null },
    });
    const roles = (settings.protection as { roleRequestLimits: { role: string }[] }).roleRequestLimits.map((r) => r.role);
    expect(roles).toEqual(['VIEWER', 'ANALYST', 'SENIOR_ANALYST', 'INVESTIGATOR', 'ADMIN', 'SUPER_ADMIN']);
  });

  it('stores a change as a new version, audited with before and after in its history, and null returns a value to its boot value', async () => {
    const before = await readSettings(server.url, superAdmin);
    const res = await graphql<{ updateSystemSettings: { version: number; protection: { anonymousRequestLimit: { effective: number; source: string } } } }>(
      server.url,
      UPDATE_SETTINGS,
      { expectedVersion: before.version, input: { protection: { anonymousRequestLimit: 1234, roleRequestLimits: [{ role: 'ADMIN', limit: 900 }] } } },
      { token: superAdmin },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.updateSystemSettings).toMatchObject({ version: before.version + 1, protection: { anonymousRequestLimit: { effective: 1234, source: 'STORED' } } });

    const entry = await lastAuditEntry(server, { action: 'SYSTEM_SETTINGS_UPDATE' });
    expect(entry?.outcome).toBe('SUCCESS');
    expect(entry?.changes).toMatchObject({
      before: { 'protection.anonymousRequestLimit': 5000, 'protection.roleRequestLimits.ADMIN': null },
      after: { 'protection.anonymousRequestLimit': 1234, 'protection.roleRequestLimits.ADMIN': 900 },
    });

    const history = await graphql<HistoryData>(server.url, HISTORY, { first: 1 }, { token: admin });
    expect(history.errors).toBeUndefined();
    const newest = history.data!.systemSettingsHistory.edges[0]!.node;
    expect(newest.version).toBe(before.version + 1);
    expect(newest.actor).not.toBeNull();
    expect(newest.changes).toEqual(
      expect.arrayContaining([{ key: 'protection.anonymousRequestLimit', before: 5000, after: 1234, beforeSource: 'ENVIRONMENT', afterSource: 'STORED' }]),
    );

    const reset = await updateSettings(server.url, superAdmin, { protection: { anonymousRequestLimit: null } });
    expect(reset.errors).toBeUndefined();
    const after = await readSettings(server.url, admin);
    expect(after.protection).toMatchObject({ anonymousRequestLimit: { effective: 5000, source: 'ENVIRONMENT' } });
  });

  it('refuses a stale version with CONFLICT and changes nothing', async () => {
    const current = await readSettings(server.url, superAdmin);
    await updateSettings(server.url, superAdmin, { alerts: { cooldownSeconds: 120 } });
    const stale = await graphql(server.url, UPDATE_SETTINGS, { expectedVersion: current.version, input: { alerts: { cooldownSeconds: 60 } } }, { token: superAdmin });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentVersion: current.version + 1 });
    expect(stale.data).toBeNull();
    expect(await readSettings(server.url, admin)).toMatchObject({ version: current.version + 1, alerts: { cooldownSeconds: { effective: 120 } } });
  });

  it('refuses an out-of-range value with BAD_USER_INPUT naming the field and range, and changes nothing (other fields of the same input included)', async () => {
    const current = await readSettings(server.url, superAdmin);
    const auditBefore = await lastAuditEntry(server, { action: 'SYSTEM_SETTINGS_UPDATE' });
    const res = await graphql(
      server.url,
      UPDATE_SETTINGS,
      { expectedVersion: current.version, input: { alerts: { cooldownSeconds: 10 }, protection: { anonymousRequestLimit: 0 } } },
      { token: superAdmin },
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.protection.anonymousRequestLimit', min: 1, max: 1_000_000 });
    expect(res.errors?.[0]?.message).toContain('between 1 and 1000000');
    const badCron = await graphql(server.url, UPDATE_SETTINGS, { expectedVersion: current.version, input: { retention: { backupSchedule: 'every day' } } }, { token: superAdmin });
    expect(badCron.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.retention.backupSchedule' });
    expect(badCron.errors?.[0]?.message).toContain('cron expression');
    expect(await readSettings(server.url, admin)).toMatchObject({ version: current.version, alerts: current.alerts as never, protection: current.protection as never });
    expect((await lastAuditEntry(server, { action: 'SYSTEM_SETTINGS_UPDATE' }))?.seq).toBe(auditBefore?.seq);
  });

  it('raises an INFO alert for each change', async () => {
    const res = await updateSettings(server.url, superAdmin, { alerts: { denialsThreshold: 17 } });
    const version = res.data!.updateSystemSettings.version;
    type Node = { level: string; title: string; source: string; message: string };
    let alert: Node | undefined;
    // The alert is raised after the change commits, beside the answer.
    await until(async () => {
      const alerts = await graphql<{ alerts: { edges: { node: Node }[] } }>(server.url, '{ alerts(first: 5) { edges { node { level title source message } } } }', {}, { token: admin });
      alert = alerts.data?.alerts.edges.map((e) => e.node).find((n) => n.source === 'settings' && n.message.includes(`version ${version})`));
      return alert !== undefined;
    }, 'the settings alert', 5000);
    expect(alert).toMatchObject({ level: 'INFO', title: 'System settings changed' });
    expect(alert?.message).toContain('alerts.denialsThreshold');
  });

  it('pages the history with first and after', async () => {
    const page1 = await graphql<HistoryData>(server.url, HISTORY, { first: 2 }, { token: admin });
    const { totalCount, pageInfo, edges } = page1.data!.systemSettingsHistory;
    expect(totalCount).toBeGreaterThanOrEqual(4);
    expect(pageInfo.hasNextPage).toBe(true);
    const page2 = await graphql<HistoryData>(server.url, HISTORY, { first: 2, after: pageInfo.endCursor }, { token: admin });
    const versions = [...edges, ...page2.data!.systemSettingsHistory.edges].map((e) => e.node.version);
    expect(versions).toEqual([...versions].sort((x, y) => y - x));
    expect(new Set(versions).size).toBe(4);
    const bad = await graphql(server.url, HISTORY, { first: 2, after: 'nonsense' }, { token: admin });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // Backward from the end of the first page: the newest entry before it.
    const back = await graphql<HistoryData>(
      server.url,
      'query($last: Int, $before: String) { systemSettingsHistory(last: $last, before: $before) { edges { node { version } } } }',
      { last: 1, before: pageInfo.endCursor },
      { token: admin },
    );
    expect(back.data!.systemSettingsHistory.edges.map((e) => e.node.version)).toEqual([versions[0]]);
  });

  it('finds the settings and a history entry again with node(id), for ADMIN_ACCESS only', async () => {
    expect((await updateSettings(server.url, superAdmin, { alerts: { escalationSeconds: 1234 } })).errors).toBeUndefined();
    const history = await graphql<{ systemSettingsHistory: { edges: { node: { id: string; version: number } }[] } }>(
      server.url,
      '{ systemSettingsHistory(first: 1) { edges { node { id version } } } }',
      {},
      { token: admin },
    );
    const entry = history.data!.systemSettingsHistory.edges[0]!.node;
    const query = `query($a: ID!, $b: ID!) { a: node(id: $a) { id ... on SystemSettingsChange { version } } b: node(id: $b) { id ... on SystemSettings { version } } }`;
    const found = await graphql<{ a: { id: string; version: number }; b: { id: string; version: number } }>(server.url, query, { a: entry.id, b: 'SystemSettings' }, { token: admin });
    expect(found.errors).toBeUndefined();
    expect(found.data).toEqual({ a: entry, b: { id: 'SystemSettings', version: server.services.settings.current().version } });
    const analyst = await tokenFor(server, Role.ANALYST);
    const denied = await graphql(server.url, query, { a: entry.id, b: 'SystemSettings' }, { token: analyst });
    expect(denied.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  });
});
