import { Role } from '../../src/permissions/roles';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

interface Page {
  totalCount: number;
  edges: { cursor: string; node: { id: string; title: string } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const PAGE = `totalCount edges { cursor node { id title } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`;

describe("Relay's server specification", () => {
  let server: TestServer;
  let viewer: string;
  let analyst: string;
  let admin: string;
  const created: { id: string; title: string }[] = [];

  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_RATE_LIMIT_ENABLED: 'false', VIGIL_HEALTH_INTERVAL_MS: '0' } });
    [viewer, analyst, admin] = await Promise.all([tokenFor(server, Role.VIEWER), tokenFor(server, Role.ANALYST), tokenFor(server, Role.ADMIN)]);
    for (let i = 0; i < 7; i++) {
      const res = await graphql<{ createInvestigation: { id: string; title: string } }>(
        server.url,
        `mutation($t: String!) { createInvestigation(input: { title: $t }) { id title } }`,
        { t: `relay ${i}` },
        { token: analyst },
      );
      expect(res.errors).toBeUndefined();
      created.push(res.data!.createInvestigation);
    }
  }, 120_000);
  afterAll(() => server?.close());

  const page = async (args: string, token = viewer) => {
    const res = await graphql<{ investigations: Page }>(server.url, `{ investigations(${args}) { ${PAGE} } }`, {}, { token });
    expect(res.errors).toBeUndefined();
    return res.data!.investigations;
  };
  const titles = (p: Page) => p.edges.map((e) => e.node.title);

  it('pages forward and backward through the same list, with a full PageInfo', async () => {
    const newestFirst = created.map((c) => c.title).reverse();
    const first = await page('first: 3');
    expect(titles(first)).toEqual(newestFirst.slice(0, 3));
    expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0]!.cursor, endCursor: first.edges[2]!.cursor });

    const second = await page(`first: 3, after: "${first.pageInfo.endCursor}"`);
    expect(titles(second)).toEqual(newestFirst.slice(3, 6));
    expect(second.pageInfo.hasPreviousPage).toBe(true);

    // Backward from the end of the list: the oldest items, still in list order.
    const last = await page('last: 2');
    expect(titles(last)).toEqual(newestFirst.slice(5, 7));
    expect(last.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    expect(last.totalCount).toBe(7);

    // Backward from a cursor: the items just before it.
    const before = await page(`last: 2, before: "${second.pageInfo.startCursor}"`);
    expect(titles(before)).toEqual(newestFirst.slice(1, 3));
    expect(before.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    const start = await page(`last: 5, before: "${before.pageInfo.startCursor}"`);
    expect(titles(start)).toEqual(newestFirst.slice(0, 1));
    expect(start.pageInfo.hasPreviousPage).toBe(false);

    // Ordered lists page backward in their own order.
    const byTitle = await page('last: 2, orderBy: { field: TITLE, direction: ASC }');
    expect(titles(byTitle)).toEqual(['relay 5', 'relay 6']);
  });

  it('refuses mixing directions and foreign cursors', async () => {
    const mixed = await graphql(server.url, `{ investigations(first: 1, last: 1) { totalCount } }`, {}, { token: viewer });
    expect(mixed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const foreign = await graphql(server.url, `{ investigations(last: 1, before: "bm9wZQ") { totalCount } }`, {}, { token: viewer });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(foreign.errors?.[0]?.extensions?.field).toBe('before');
  });

  it('pages an investigation\'s findings backward too', async () => {
    const id = created[0]!.id;
    for (let i = 0; i < 4; i++) {
      const res = await graphql(server.url, `mutation($id: ID!, $s: String!) { addFinding(investigationId: $id, input: { summary: $s }) { id } }`, { id, s: `finding ${i}` }, { token: analyst });
      expect(res.errors).toBeUndefined();
    }
    const res = await graphql<{ investigation: { findings: { edges: { node: { summary: string } }[]; pageInfo: Page['pageInfo'] } } }>(
      server.url,
      `query($id: ID!) { investigation(id: $id) { findings(last: 3) { edges { node { summary } } pageInfo { hasNextPage hasPreviousPage } } } }`,
      { id },
      { token: viewer },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.investigation.findings.edges.map((e) => e.node.summary)).toEqual(['finding 2', 'finding 1', 'finding 0']);
    expect(res.data!.investigation.findings.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
  });

  it('finds any object again with node and nodes, under its own rules', async () => {
    const id = created[1]!.id;
    const one = await graphql<{ node: { __typename: string; id: string; title?: string } }>(
      server.url,
      `query($id: ID!) { node(id: $id) { __typename id ... on Investigation { title } } }`,
      { id },
      { token: viewer },
    );
    expect(one.errors).toBeUndefined();
    expect(one.data!.node).toEqual({ __typename: 'Investigation', id, title: created[1]!.title });

    const health = await graphql<{ node: { __typename: string; id: string } }>(server.url, `{ node(id: "Health") { __typename id } }`);
    expect(health.data!.node).toEqual({ __typename: 'Health', id: 'Health' });

    const many = await graphql<{ nodes: ({ id: string } | null)[] }>(
      server.url,
      `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
      { ids: [created[2]!.id, 'Health', created[3]!.id] },
      { token: viewer },
    );
    expect(many.errors).toBeUndefined();
    expect(many.data!.nodes.map((n) => n?.id)).toEqual([created[2]!.id, 'Health', created[3]!.id]);
  });

  it('answers a denied id and a missing id alike to a caller without the permission', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const res = await graphql<{ a: unknown; b: unknown; h: { id: string } }>(
      server.url,
      `query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } h: health { id } }`,
      { a: created[0]!.id, b: missing },
    );
    expect(res.data).toEqual({ a: null, b: null, h: { id: 'Health' } });
    const byPath = Object.fromEntries((res.errors ?? []).map((e) => [e.path?.join('.'), e]));
    expect(byPath.a?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(byPath.b?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(byPath.a?.message).toBe(byPath.b?.message);

    // A viewer may read investigations but not backups or audit entries: a missing id is FORBIDDEN too.
    const asViewer = await graphql<{ a: unknown; b: unknown }>(
      server.url,
      `query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }`,
      { a: 'CacheStats', b: missing },
      { token: viewer },
    );
    expect(asViewer.data).toEqual({ a: null, b: null });
    expect(asViewer.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(new Set(asViewer.errors?.map((e) => e.message)).size).toBe(1);

    // An administrator may see every type: a missing id is plain null.
    const asAdmin = await graphql<{ b: unknown }>(server.url, `query($b: ID!) { b: node(id: $b) { id } }`, { b: missing }, { token: admin });
    expect(asAdmin.errors).toBeUndefined();
    expect(asAdmin.data).toEqual({ b: null });
  });

  it('keeps what a role may see when another root field is denied', async () => {
    const res = await graphql<{ me: { id: string }; health: { status: string }; investigations: { totalCount: number }; auditLogs: unknown }>(
      server.url,
      `{ me { id } health { status } investigations(first: 1) { totalCount } auditLogs(first: 1) { totalCount } }`,
      {},
      { token: analyst },
    );
    expect(res.data!.me.id).toBeTruthy();
    expect(res.data!.health.status).toBeTruthy();
    expect(res.data!.investigations.totalCount).toBe(7);
    expect(res.data!.auditLogs).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.path).toEqual(['auditLogs']);
    expect(res.errors![0]!.extensions?.code).toBe('FORBIDDEN');
  });

  it('gives backup progress an id of its own', async () => {
    const created = await graphql<{ createBackup: { id: string } }>(server.url, `mutation { createBackup(label: "relay") { id } }`, {}, { token: admin });
    const backupId = created.data?.createBackup.id;
    expect(backupId).toBeTruthy();
    const res = await graphql<{ node: { __typename: string; id: string; backupId: string; backup: { id: string } } }>(
      server.url,
      `query($id: ID!) { node(id: $id) { __typename id ... on BackupProgress { backupId backup { id } } } }`,
      { id: `BackupProgress:${backupId}` },
      { token: admin },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.node).toEqual({ __typename: 'BackupProgress', id: `BackupProgress:${backupId}`, backupId, backup: { id: backupId } });
  });

  it('orders and filters users, alerts, audit logs and backups the same way', async () => {
    type Page = { totalCount: number; edges: { node: { id: string } }[] };
    const ask = async <T>(query: string) => {
      const res = await graphql<T>(server.url, query, {}, { token: admin });
      expect(res.errors).toBeUndefined();
      return res.data!;
    };
    for (const list of ['users', 'alerts', 'auditLogs', 'backups']) {
      const field = { users: 'CREATED_AT', alerts: 'FIRST_SEEN_AT', auditLogs: 'SEQ', backups: 'STARTED_AT' }[list];
      const data = await ask<Record<string, Page>>(`{
        newest: ${list}(first: 100) { totalCount edges { node { id } } }
        oldest: ${list}(first: 100, orderBy: { field: ${field}, direction: ASC }) { totalCount edges { node { id } } }
      }`);
      expect(data.oldest!.totalCount).toBe(data.newest!.totalCount);
      expect(data.oldest!.edges.map((e) => e.node.id)).toEqual(data.newest!.edges.map((e) => e.node.id).reverse());
    }
    const users = await ask<{ analysts: Page; disabled: Page }>(`{
      analysts: users(filter: { role: ANALYST }) { totalCount edges { node { id } } }
      disabled: users(filter: { disabled: true }) { totalCount edges { node { id } } }
    }`);
    expect(users.analysts.totalCount).toBe(1);
    expect(users.disabled.totalCount).toBe(0);
    const backups = await ask<{ manual: Page; scheduled: Page }>(`{
      manual: backups(filter: { trigger: MANUAL }) { totalCount }
      scheduled: backups(filter: { trigger: SCHEDULED }) { totalCount }
    }`);
    expect(backups.manual.totalCount).toBeGreaterThanOrEqual(1);
    expect(backups.scheduled.totalCount).toBe(0);
  });
});
