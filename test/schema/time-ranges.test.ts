import { randomBytes } from 'node:crypto';
import { Role } from '../../src/permissions/roles';
import { createUser, signIn } from '../helpers/auth';
import { graphql, type GraphQLResponse } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

/** Three objects of one list, oldest first, with the time their range filter bounds. */
type Item = { id: string; time: string };

/**
 * One list's range filter as a client sends it over HTTP: the filter input's type, the field the
 * range bounds, the deprecated flat pair it replaced (if the filter had one), and how to read the
 * page's ids.
 */
interface RangeList {
  name: string;
  filterType: string;
  range: string;
  legacy?: [string, string];
  /** The list field with `filter: $filter`, selecting what `ids` reads. */
  select: string;
  ids: (data: Record<string, unknown>) => string[];
}

const edgesOf = (field: string) => (data: Record<string, unknown>) =>
  ((data[field] as { edges: { node: { id: string } }[] } | null)?.edges ?? []).map((e) => e.node.id);

const LISTS = {
  investigations: {
    name: 'investigations',
    filterType: 'InvestigationFilter',
    range: 'createdAt',
    legacy: ['createdFrom', 'createdTo'],
    select: 'investigations(first: 100, filter: $filter) { edges { node { id } } }',
    ids: edgesOf('investigations'),
  },
  alerts: {
    name: 'alerts',
    filterType: 'AlertFilter',
    range: 'firstSeenAt',
    legacy: ['from', 'to'],
    select: 'alerts(first: 100, filter: $filter) { edges { node { id } } }',
    ids: edgesOf('alerts'),
  },
  auditLogs: {
    name: 'auditLogs',
    filterType: 'AuditLogFilter',
    range: 'at',
    legacy: ['from', 'to'],
    select: 'auditLogs(first: 100, filter: $filter) { edges { node { id } } }',
    ids: edgesOf('auditLogs'),
  },
  backups: {
    name: 'backups',
    filterType: 'BackupFilter',
    range: 'startedAt',
    select: 'backups(first: 100, filter: $filter) { edges { node { id } } }',
    ids: edgesOf('backups'),
  },
  users: {
    name: 'users',
    filterType: 'UserFilter',
    range: 'createdAt',
    select: 'users(first: 100, filter: $filter) { edges { node { id } } }',
    ids: edgesOf('users'),
  },
  systemSettingsHistory: {
    name: 'systemSettingsHistory',
    filterType: 'SystemSettingsChangeFilter',
    range: 'at',
    select: 'systemSettingsHistory(first: 100, filter: $filter) { edges { node { id } } }',
    ids: edgesOf('systemSettingsHistory'),
  },
} satisfies Record<string, RangeList>;

/**
 * Every list filter names its time range after the field it bounds and types it `DateTimeRange`
 * (`from` inclusive, `to` exclusive); the flat pairs it replaced still work, deprecated, and a
 * filter giving both spellings, or a range that ends before it starts, is refused with
 * BAD_USER_INPUT naming the fields.
 */
describe('time ranges in list filters, over HTTP', () => {
  let server: TestServer;
  let token: string;
  let adminId: string;
  const marker = randomBytes(4).toString('hex');

  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_RATE_LIMIT_ENABLED: 'false', VIGIL_HEALTH_INTERVAL_MS: '0', VIGIL_BACKUP_SCHEDULE: 'off' } });
    const admin = await createUser(server, Role.SUPER_ADMIN);
    adminId = admin.id;
    token = (await signIn(server, admin.email, admin.password)).accessToken;
  });
  afterAll(() => server?.close());

  async function send<T>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    return graphql<T>(server.url, query, variables, { token });
  }

  async function ok<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await send<T>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data!;
  }

  const list = (l: RangeList, filter: Record<string, unknown>) => send<Record<string, unknown>>(`query($filter: ${l.filterType}) { ${l.select} }`, { filter });

  /** The ids of `items` the list shows with `filter`, oldest first. */
  async function shown(l: RangeList, items: Item[], filter: Record<string, unknown>): Promise<number[]> {
    const res = await list(l, filter);
    expect(res.errors).toBeUndefined();
    const ids = new Set(l.ids(res.data!));
    return items.flatMap((item, i) => (ids.has(item.id) ? [i] : []));
  }

  async function refused(l: RangeList, filter: Record<string, unknown>) {
    const res = await list(l, filter);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.data?.[l.name] ?? null).toBeNull();
    return res.errors![0]!;
  }

  /** The whole contract of one list's range, on three of its objects made one after another. */
  async function checkRange(l: RangeList, items: Item[]): Promise<void> {
    expect(items).toHaveLength(3);
    const [t0, t1, t2] = items.map((item) => item.time);
    expect(Date.parse(t0!)).toBeLessThan(Date.parse(t1!));
    expect(Date.parse(t1!)).toBeLessThan(Date.parse(t2!));
    const r = l.range;

    expect(await shown(l, items, {})).toEqual([0, 1, 2]);
    expect(await shown(l, items, { [r]: {} })).toEqual([0, 1, 2]);
    // `from` is inclusive, `to` exclusive.
    expect(await shown(l, items, { [r]: { from: t1 } })).toEqual([1, 2]);
    expect(await shown(l, items, { [r]: { to: t1 } })).toEqual([0]);
    expect(await shown(l, items, { [r]: { from: t1, to: t2 } })).toEqual([1]);
    expect(await shown(l, items, { [r]: { from: t1, to: t1 } })).toEqual([]);

    const inverted = await refused(l, { [r]: { from: t2, to: t1 } });
    expect(inverted.extensions).toMatchObject({ field: `filter.${r}.from`, fields: [`filter.${r}.from`, `filter.${r}.to`] });
    expect(inverted.message).toContain(`filter.${r}.from`);

    if (!l.legacy) return;
    const [from, to] = l.legacy;
    // The deprecated spelling still answers as it did.
    expect(await shown(l, items, { [from]: t1, [to]: t2 })).toEqual([1]);
    expect(await shown(l, items, { [from]: t1 })).toEqual([1, 2]);
    expect(await shown(l, items, { [r]: null, [to]: t1 })).toEqual([0]);
    const both = await refused(l, { [r]: { from: t1 }, [from]: t0 });
    expect(both.extensions).toMatchObject({ field: `filter.${r}`, fields: [`filter.${r}`, `filter.${from}`] });
    expect(both.message).toContain(`filter.${r}`);
    expect(both.message).toContain(`filter.${from}`);
    const bothPairs = await refused(l, { [r]: {}, [from]: t0, [to]: t2 });
    expect(bothPairs.extensions?.fields).toEqual([`filter.${r}`, `filter.${from}`, `filter.${to}`]);
    const invertedLegacy = await refused(l, { [from]: t2, [to]: t1 });
    expect(invertedLegacy.extensions).toMatchObject({ field: `filter.${from}` });
  }

  it('investigations: createdAt (createdFrom/createdTo deprecated)', async () => {
    const tag = `range-${marker}`;
    const items: Item[] = [];
    for (let i = 0; i < 3; i++) {
      const { createInvestigation } = await ok<{ createInvestigation: Item & { createdAt: string } }>(
        'mutation($input: CreateInvestigationInput!) { createInvestigation(input: $input) { id createdAt } }',
        { input: { title: `range ${i}`, tags: [tag] } },
      );
      items.push({ id: createInvestigation.id, time: createInvestigation.createdAt });
    }
    await checkRange(LISTS.investigations, items);
    // Every other condition still applies beside the range.
    expect(await shown(LISTS.investigations, items, { tag: 'another-tag', createdAt: { from: items[0]!.time } })).toEqual([]);
  });

  it('alerts: firstSeenAt (from/to deprecated)', async () => {
    const items: Item[] = [];
    for (let i = 0; i < 3; i++) {
      const { raiseAlert } = await ok<{ raiseAlert: { id: string; firstSeenAt: string } }>(
        'mutation($input: RaiseAlertInput!) { raiseAlert(input: $input) { id firstSeenAt } }',
        { input: { level: 'INFO', title: `range ${i}`, source: `range-${marker}`, fingerprint: `range-${marker}-${i}` } },
      );
      items.push({ id: raiseAlert.id, time: raiseAlert.firstSeenAt });
    }
    await checkRange(LISTS.alerts, items);
  });

  it('auditLogs and exportAuditLogs: at (from/to deprecated)', async () => {
    const raised = await send<Record<string, unknown>>(
      `query($filter: AuditLogFilter) { auditLogs(first: 100, filter: $filter) { edges { node { id at resourceId } } } }`,
      { filter: { actorId: adminId, action: 'ALERT_RAISE' } },
    );
    const entries = (raised.data!.auditLogs as { edges: { node: { id: string; at: string } }[] }).edges.map((e) => e.node).reverse();
    await checkRange(
      LISTS.auditLogs,
      entries.map((e) => ({ id: e.id, time: e.at })),
    );

    const exportCount = async (filter: Record<string, unknown>) =>
      (await send<{ exportAuditLogs: { count: number } }>('mutation($filter: AuditLogFilter) { exportAuditLogs(filter: $filter) { count } }', { filter })).data?.exportAuditLogs.count;
    const base = { actorId: adminId, action: 'ALERT_RAISE' };
    expect(await exportCount({ ...base, at: { from: entries[1]!.at, to: entries[2]!.at } })).toBe(1);
    expect(await exportCount({ ...base, from: entries[1]!.at })).toBe(2);
    const both = await send('mutation($filter: AuditLogFilter) { exportAuditLogs(filter: $filter) { count } }', { filter: { ...base, at: {}, to: entries[2]!.at } });
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: ['filter.at', 'filter.to'] });
  });

  it('backups: startedAt', async () => {
    const items: Item[] = [];
    for (let i = 0; i < 3; i++) {
      const { createBackup } = await ok<{ createBackup: { id: string; startedAt: string } }>('mutation($l: String) { createBackup(label: $l) { id startedAt } }', { l: `range ${i}` });
      items.push({ id: createBackup.id, time: createBackup.startedAt });
      // One backup runs at a time: the next one starts once this one has finished.
      for (;;) {
        const { backup } = await ok<{ backup: { status: string } }>('query($id: ID!) { backup(id: $id) { status } }', { id: createBackup.id });
        if (backup.status !== 'RUNNING') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await checkRange(LISTS.backups, items);
  }, 120_000);

  it('users: createdAt', async () => {
    const items: Item[] = [];
    for (let i = 0; i < 3; i++) {
      const { createUser: created } = await ok<{ createUser: { id: string; createdAt: string } }>(
        'mutation($input: CreateUserInput!) { createUser(input: $input) { id createdAt } }',
        { input: { email: `range-${marker}-${i}@test.vigil`, name: `Range ${i}`, role: 'VIEWER', password: `Range-${marker}-password-${i}` } },
      );
      items.push({ id: created.id, time: created.createdAt });
    }
    await checkRange(LISTS.users, items);
  });

  it('systemSettingsHistory: at', async () => {
    for (const lockoutThreshold of [7, 8, null]) {
      const { systemSettings } = await ok<{ systemSettings: { version: number } }>('{ systemSettings { version } }');
      await ok('mutation($v: Int!, $input: SystemSettingsInput!) { updateSystemSettings(expectedVersion: $v, input: $input) { version } }', {
        v: systemSettings.version,
        input: { identity: { lockoutThreshold } },
      });
    }
    const { systemSettingsHistory } = await ok<{ systemSettingsHistory: { edges: { node: { id: string; at: string } }[] } }>(
      '{ systemSettingsHistory(first: 3) { edges { node { id at } } } }',
    );
    await checkRange(
      LISTS.systemSettingsHistory,
      systemSettingsHistory.edges.map((e) => ({ id: e.node.id, time: e.node.at })).reverse(),
    );
    const counted = await send<{ systemSettingsHistory: { totalCount: number } }>(
      'query($filter: SystemSettingsChangeFilter) { systemSettingsHistory(first: 0, filter: $filter) { totalCount } }',
      { filter: { at: { from: systemSettingsHistory.edges[1]!.node.at } } },
    );
    expect(counted.data?.systemSettingsHistory.totalCount).toBe(2);
  });

  it('names every time range of a filter input a DateTimeRange: no DateTime input field is left but the deprecated ones', async () => {
    const res = await send<{ __schema: { types: { name: string; kind: string; inputFields: { name: string; type: { name: string | null }; isDeprecated: boolean }[] | null }[] } }>(
      '{ __schema { types { name kind inputFields(includeDeprecated: true) { name isDeprecated type { name } } } } }',
    );
    const filters = res.data!.__schema.types.filter((t) => t.kind === 'INPUT_OBJECT' && t.name.endsWith('Filter'));
    expect(filters.map((f) => f.name).sort()).toEqual(Object.values(LISTS).map((l) => l.filterType).sort());
    const flat = filters.flatMap((f) => (f.inputFields ?? []).filter((field) => field.type.name === 'DateTime' && !field.isDeprecated).map((field) => `${f.name}.${field.name}`));
    expect(flat).toEqual([]);
    for (const l of Object.values(LISTS) as RangeList[]) {
      const fields = filters.find((f) => f.name === l.filterType)!.inputFields!;
      expect(fields.find((field) => field.name === l.range)?.type.name).toBe('DateTimeRange');
      for (const old of l.legacy ?? []) expect(fields.find((field) => field.name === old)).toMatchObject({ isDeprecated: true, type: { name: 'DateTime' } });
    }
  });
});
