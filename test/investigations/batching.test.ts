import type { Knex } from '@mikro-orm/postgresql';
import { Role } from '../../src/permissions/roles';
import { seedDemo } from '../../src/services/investigations/demo-seed';
import { InvestigationsDeepDocument, InvestigationsWithPeopleDocument } from '../generated/graphql';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

describe('investigations: batched loading', () => {
  let server: TestServer;
  let token: string;
  let knex: Knex;
  let statements: string[] = [];
  const onQuery = (query: { sql: string }) => statements.push(query.sql);

  beforeAll(async () => {
    // No background health checks: every statement counted belongs to the request.
    // No background health checks, settings re-read once a minute: the statements counted belong to the request.
    server = await startTestServer({ env: { VIGIL_HEALTH_INTERVAL_MS: '0', VIGIL_SETTINGS_POLL_MS: '60000' } });
    await seedDemo(server.orm, { users: server.services.users, audit: server.services.audit }, {
      investigations: 60,
      findingsPer: 4,
      password: 'demo-password-for-tests',
      batchSize: 25,
    });
    token = await tokenFor(server, Role.VIEWER);
    knex = server.orm.em.getConnection().getKnex();
    knex.on('query', onQuery);
  }, 120_000);
  afterAll(async () => {
    knex.off('query', onQuery);
    await server.close();
  });

  /**
   * Statements that are not the query's own: authentication's session lookup (a valid session is
   * remembered for a moment, so one request reads it and the next may not) and the settings'
   * catch-up read, which runs on a timer.
   */
  const BACKGROUND = /\b(session|system_settings_state)\b/;

  /** The SQL statements one request ran. */
  async function statementsOf<T>(run: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
    statements = [];
    const result = await run();
    return { result, sql: [...statements] };
  }

  const deepPage = (first: number) =>
    statementsOf(async () => {
      const res = await graphql(server.url, InvestigationsDeepDocument, { first }, { token });
      expect(res.errors).toBeUndefined();
      const edges = res.data!.investigations!.edges;
      expect(edges).toHaveLength(first);
      // The page really carries children, so the loaders had work to do.
      expect(edges.every((e) => e.node.createdBy.id && e.node.findings.edges.length === 3 && e.node.findings.totalCount === 4)).toBe(true);
      expect(edges.some((e) => e.node.assignee)).toBe(true);
      expect(edges.some((e) => e.node.actions.length > 0)).toBe(true);
      expect(edges.some((e) => e.node.notes.length > 0)).toBe(true);
    });

  it('runs the same statements for 5 and for 50 investigations with findings, actions, notes, assignee and creator', async () => {
    const five = await deepPage(5);
    const fifty = await deepPage(50);
    // Authentication's own statements (the session lookup) are not counted: a valid session is
    // remembered for a moment, so the second request may not read it again.
    const notSession = (sql: string[]) => sql.filter((s) => !BACKGROUND.test(s));
    expect(notSession(fifty.sql).length).toBe(notSession(five.sql).length);
    const own = (sql: string[]) => notSession(sql).filter((s) => /\b(investigation|finding|recommended_action|note|user)\b/.test(s));
    // The page read with what its nodes select (total count, findings, actions, assignee and
    // creator) in one statement; notes, which it does not include, in one more.
    expect(own(fifty.sql)).toHaveLength(2);
    expect(own(five.sql)).toHaveLength(2);
    expect(own(fifty.sql).filter((s) => /from finding f/.test(s))).toHaveLength(1);
  }, 120_000);

  it('falls back to one batched statement per findings page when a selection asks for pages the list cannot include', async () => {
    const query = `query TwoFindingPages($first: Int) {
      investigations(first: $first) {
        edges { node { id
          newest: findings(first: 1) { totalCount edges { cursor node { id summary } } }
          more: findings(first: 3) { pageInfo { hasNextPage } edges { node { id riskLevel observedAt } } }
        } }
      }
    }`;
    const run = (first: number) =>
      statementsOf(async () => {
        const res = await graphql<{
          investigations: { edges: { node: { id: string; newest: { totalCount: number; edges: { cursor: string }[] }; more: { pageInfo: { hasNextPage: boolean }; edges: { node: { observedAt: string | null } }[] } } }[] };
        }>(server.url, query, { first }, { token });
        expect(res.errors).toBeUndefined();
        for (const { node } of res.data!.investigations!.edges) {
          expect(node.newest.totalCount).toBe(4);
          expect(node.newest.edges).toHaveLength(1);
          expect(typeof node.newest.edges[0]!.cursor).toBe('string');
          expect(node.more.edges).toHaveLength(3);
          expect(node.more.pageInfo.hasNextPage).toBe(true);
        }
        return res;
      });
    const five = await run(5);
    const fifty = await run(50);
    const findings = (sql: string[]) => sql.filter((s) => /from finding f/.test(s));
    // One statement per distinct page, whatever the number of investigations.
    expect(findings(five.sql)).toHaveLength(2);
    expect(findings(fifty.sql)).toHaveLength(2);
    expect(findings(fifty.sql).every((s) => /unnest/.test(s))).toBe(true);
  }, 120_000);

  it('loads owners and authors in at most one more statement, whatever the page size', async () => {
    const five = await statementsOf(() => graphql(server.url, InvestigationsWithPeopleDocument, { first: 5 }, { token }));
    const fifty = await statementsOf(() => graphql(server.url, InvestigationsWithPeopleDocument, { first: 50 }, { token }));
    expect(fifty.result.errors).toBeUndefined();
    const users = (sql: string[]) => sql.filter((s) => /from "user"/.test(s)).length;
    // Assignees and creators in one round; owners and authors not already loaded in a second.
    expect(users(fifty.sql)).toBeLessThanOrEqual(2);
    expect(fifty.sql.length).toBeLessThanOrEqual(five.sql.length);
    expect(fifty.sql.length).toBeLessThanOrEqual(10);
  }, 120_000);

  const DEEP_BACKWARD = `query DeepBackward($last: Int) {
    investigations(last: $last) {
      totalCount
      pageInfo { hasPreviousPage startCursor }
      edges { node { id title assignee { id name } createdBy { id name }
        findings(last: 3) { totalCount pageInfo { hasPreviousPage } edges { node { id summary } } }
        actions { id status } notes { id body } } }
    }
  }`;

  it('pages backward (last/before) with the same statements as forward, for 5 and for 50', async () => {
    const backward = (last: number) =>
      statementsOf(async () => {
        const res = await graphql<{ investigations: { edges: { node: { findings: { totalCount: number; edges: unknown[]; pageInfo: { hasPreviousPage: boolean } } } }[] } }>(
          server.url,
          DEEP_BACKWARD,
          { last },
          { token },
        );
        expect(res.errors).toBeUndefined();
        const edges = res.data!.investigations.edges;
        expect(edges).toHaveLength(last);
        expect(edges.every((e) => e.node.findings.edges.length === 3 && e.node.findings.totalCount === 4 && e.node.findings.pageInfo.hasPreviousPage)).toBe(true);
      });
    const five = await backward(5);
    const fifty = await backward(50);
    const forward = await deepPage(50);
    const own = (sql: string[]) => sql.filter((s) => !BACKGROUND.test(s));
    expect(own(fifty.sql)).toHaveLength(own(five.sql).length);
    expect(own(fifty.sql)).toHaveLength(own(forward.sql).length);
    // The page with its findings, users and actions in one statement, notes in one more.
    expect(own(fifty.sql)).toHaveLength(2);
  }, 120_000);

  it('answers each child\'s parent and each foreign id\'s object without a statement per row', async () => {
    const query = `query Parents($first: Int) {
      investigations(first: $first) { edges { node { id
        findings(first: 3) { edges { node { id investigation { id updatedAt } } } }
        actions { id investigation { id } }
        notes { id investigation { id } }
      } } }
    }`;
    const run = (first: number) =>
      statementsOf(async () => {
        const res = await graphql<{ investigations: { edges: { node: { id: string; findings: { edges: { node: { investigation: { id: string } } }[] } } }[] } }>(
          server.url,
          query,
          { first },
          { token },
        );
        expect(res.errors).toBeUndefined();
        for (const { node } of res.data!.investigations.edges) {
          expect(node.findings.edges.every((e) => e.node.investigation.id === node.id)).toBe(true);
        }
      });
    const five = await run(5);
    const fifty = await run(50);
    const own = (sql: string[]) => sql.filter((s) => !BACKGROUND.test(s));
    // The parents come from the page itself: no statement beyond the page's and the notes'.
    expect(own(fifty.sql)).toHaveLength(own(five.sql).length);
    expect(own(fifty.sql)).toHaveLength(2);
  }, 120_000);
});
