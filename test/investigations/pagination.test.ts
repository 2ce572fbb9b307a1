import { Role } from '../../src/permissions/roles';
import { CreateInvestigationDocument, AddFindingDocument, InvestigationsDocument, type InvestigationsQueryVariables } from '../generated/graphql';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

describe('investigations(first, after, filter, orderBy)', () => {
  let server: TestServer;
  let analyst: string;
  let viewer: string;
  let assigneeId: string;
  /** Titles in creation order. */
  const created: { id: string; title: string; riskLevel: string }[] = [];

  const list = (variables: InvestigationsQueryVariables, token = viewer) => graphql(server.url, InvestigationsDocument, variables, { token });

  beforeAll(async () => {
    server = await startTestServer();
    const user = await createUser(server, Role.ANALYST);
    assigneeId = user.id;
    analyst = (await signIn(server, user.email, user.password)).accessToken;
    viewer = await tokenFor(server, Role.VIEWER);
    const risks = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
    const titles = ['Bravo spam wave', 'Alpha phishing kit', 'Delta card testing', 'Charlie bot signups', 'Echo chargeback ring', 'Foxtrot leaked key', 'Golf promo abuse'];
    for (const [i, title] of titles.entries()) {
      const res = await graphql(
        server.url,
        CreateInvestigationDocument,
        {
          input: {
            title,
            description: i === 3 ? 'Headless browsers registering accounts' : `Case number ${i}`,
            riskLevel: risks[i % 4] as never,
            tags: i % 2 === 0 ? ['even', 'demo'] : ['odd'],
            assigneeId: i < 2 ? assigneeId : null,
          },
        },
        { token: analyst },
      );
      expect(res.errors).toBeUndefined();
      created.push({ id: res.data!.createInvestigation.id, title, riskLevel: risks[i % 4]! });
    }
    await graphql(server.url, AddFindingDocument, { investigationId: created[5]!.id, input: { summary: 'Credentials exposed in a public gist' } }, { token: analyst });
  }, 120_000);
  afterAll(() => server.close());

  it('lists newest first by default with totalCount', async () => {
    const res = await list({});
    expect(res.errors).toBeUndefined();
    const page = res.data!.investigations!;
    expect(page.totalCount).toBe(7);
    expect(page.edges.map((e) => e.node.title)).toEqual(created.map((c) => c.title).reverse());
    expect(page.pageInfo.hasNextPage).toBe(false);
  });

  it('walks pages with cursors to the last page', async () => {
    const seen: string[] = [];
    let after: string | null | undefined;
    let pages = 0;
    do {
      const res = await list({ first: 3, after });
      const page = res.data!.investigations!;
      expect(page.totalCount).toBe(7);
      seen.push(...page.edges.map((e) => e.node.title));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toEqual(created.map((c) => c.title).reverse());
  });

  it('keeps cursors stable when rows are inserted before them', async () => {
    const first = await list({ first: 2 });
    const cursor = first.data!.investigations!.pageInfo.endCursor;
    const inserted = await graphql(server.url, CreateInvestigationDocument, { input: { title: 'Hotel inserted meanwhile' } }, { token: analyst });
    const next = await list({ first: 2, after: cursor });
    expect(next.data!.investigations!.edges.map((e) => e.node.title)).toEqual([created[4]!.title, created[3]!.title]);
    expect(next.data!.investigations!.totalCount).toBe(8);
    await server.services.investigations.delete(server.orm.em.fork(), {
      requestId: 't', ip: '127.0.0.1', userAgent: null, operationName: null, actor: null, sessionId: null,
    }, inserted.data!.createInvestigation.id);
  });

  it('answers an empty list with no cursor', async () => {
    const res = await list({ filter: { tag: 'no-such-tag' } });
    expect(res.data!.investigations!).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    const zero = await list({ first: 0 });
    expect(zero.data!.investigations!).toMatchObject({ totalCount: 7, edges: [], pageInfo: { hasNextPage: true, endCursor: null } });
  });

  it('refuses first: 101 and a negative first', async () => {
    for (const first of [101, -1]) {
      const res = await list({ first });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    }
    const max = await list({ first: 100 });
    expect(max.errors).toBeUndefined();
  });

  it('refuses tampered cursors and cursors of another order', async () => {
    const page = await list({ first: 1 });
    const cursor = page.data!.investigations!.pageInfo.endCursor!;
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    const forged = [
      'garbage',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from(JSON.stringify([decoded[0], "2026-01-01'; drop table investigation; --", decoded[2]])).toString('base64url'),
      Buffer.from(JSON.stringify([decoded[0], decoded[1], 'not-a-uuid'])).toString('base64url'),
    ];
    for (const after of forged) {
      const res = await list({ first: 1, after });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    }
    const otherOrder = await list({ first: 1, after: cursor, orderBy: { field: 'TITLE', direction: 'ASC' } });
    expect(otherOrder.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it.each([
    ['TITLE', 'ASC'],
    ['TITLE', 'DESC'],
    ['RISK_LEVEL', 'DESC'],
    ['RISK_LEVEL', 'ASC'],
    ['CREATED_AT', 'ASC'],
    ['UPDATED_AT', 'DESC'],
  ] as const)('sorts by %s %s across pages with ties broken by id', async (field, direction) => {
    const titles: string[] = [];
    const risks: string[] = [];
    let after: string | null | undefined;
    do {
      const res = await list({ first: 2, after, orderBy: { field, direction } });
      expect(res.errors).toBeUndefined();
      const page = res.data!.investigations!;
      titles.push(...page.edges.map((e) => e.node.title));
      risks.push(...page.edges.map((e) => e.node.riskLevel));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(titles).toHaveLength(7);
    expect(new Set(titles).size).toBe(7);
    const sign = direction === 'ASC' ? 1 : -1;
    if (field === 'TITLE') expect(titles).toEqual([...titles].sort((a, b) => sign * a.localeCompare(b)));
    if (field === 'RISK_LEVEL') {
      const rank = (r: string) => ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].indexOf(r);
      expect(risks).toEqual([...risks].sort((a, b) => sign * (rank(a) - rank(b))));
    }
    if (field === 'CREATED_AT') expect(titles).toEqual(created.map((c) => c.title));
  });

  it('filters by status, risk level, assignee, tag and creation time', async () => {
    const byRisk = await list({ filter: { riskLevel: ['CRITICAL', 'HIGH'] } });
    expect(byRisk.data!.investigations!.edges.every((e) => ['CRITICAL', 'HIGH'].includes(e.node.riskLevel))).toBe(true);
    expect(byRisk.data!.investigations!.totalCount).toBe(created.filter((c) => ['CRITICAL', 'HIGH'].includes(c.riskLevel)).length);

    const byAssignee = await list({ filter: { assigneeId } });
    expect(byAssignee.data!.investigations!.edges.map((e) => e.node.title).sort()).toEqual([created[0]!.title, created[1]!.title].sort());

    const byTag = await list({ filter: { tag: 'odd' } });
    expect(byTag.data!.investigations!.totalCount).toBe(3);
    expect(byTag.data!.investigations!.edges.every((e) => e.node.tags.includes('odd'))).toBe(true);

    const byStatus = await list({ filter: { status: ['OPEN'] } });
    expect(byStatus.data!.investigations!.totalCount).toBe(7);
    const closed = await list({ filter: { status: ['CLOSED', 'ESCALATED'] } });
    expect(closed.data!.investigations!.totalCount).toBe(0);

    const all = await list({ orderBy: { field: 'CREATED_AT', direction: 'ASC' } });
    const times = all.data!.investigations!.edges.map((e) => e.node.createdAt);
    const window = await list({ filter: { createdFrom: times[2], createdTo: times[5] } });
    expect(window.data!.investigations!.edges.map((e) => e.node.title).reverse()).toEqual(created.slice(2, 5).map((c) => c.title));
    const future = await list({ filter: { createdFrom: new Date(Date.now() + 3_600_000).toISOString() } });
    expect(future.data!.investigations!.totalCount).toBe(0);
    const inverted = await list({ filter: { createdFrom: times[5], createdTo: times[2] } });
    expect(inverted.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });

    const combined = await list({ filter: { tag: 'even', riskLevel: ['LOW'] } });
    expect(combined.data!.investigations!.edges.map((e) => e.node.title).sort()).toEqual(
      created.filter((c, i) => i % 2 === 0 && c.riskLevel === 'LOW').map((c) => c.title).sort(),
    );
  });

  it('searches title, description and finding summaries with full-text search', async () => {
    const byTitle = await list({ filter: { search: 'phishing' } });
    expect(byTitle.data!.investigations!.edges.map((e) => e.node.title)).toEqual(['Alpha phishing kit']);
    const byDescription = await list({ filter: { search: 'headless browser' } });
    expect(byDescription.data!.investigations!.edges.map((e) => e.node.title)).toEqual(['Charlie bot signups']);
    const byFinding = await list({ filter: { search: 'credentials gist' } });
    expect(byFinding.data!.investigations!.edges.map((e) => e.node.title)).toEqual(['Foxtrot leaked key']);
    const stemmed = await list({ filter: { search: 'waves' } });
    expect(stemmed.data!.investigations!.edges.map((e) => e.node.title)).toEqual(['Bravo spam wave']);
    const operators = await list({ filter: { search: '"spam wave" or "promo abuse" -golf' } });
    expect(operators.data!.investigations!.edges.map((e) => e.node.title)).toEqual(['Bravo spam wave']);
    const nothing = await list({ filter: { search: 'xylophone' } });
    expect(nothing.data!.investigations!.totalCount).toBe(0);
    const junk = await list({ filter: { search: "')(&|!:*" } });
    expect(junk.errors).toBeUndefined();
    const tooLong = await list({ filter: { search: 'x'.repeat(201) } });
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'search' });
  });
});
