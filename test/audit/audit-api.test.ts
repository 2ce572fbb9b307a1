import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { Role } from '../../src/permissions/roles';
import type { RequestMeta } from '../../src/context';
import { entryHash, type ChainedContent } from '../../src/services/audit/audit-canonical';
import { AUDIT_CHAIN_VERIFIED, AUDIT_LOCKS } from '../../src/services/audit/audit.service';
import {
  AuditLogsDocument,
  CreateInvestigationDocument,
  ExportAuditLogsDocument,
  VerifyAuditChainDocument,
} from '../generated/graphql';
import { auditEntries } from '../helpers/audit';
import { createUser, signIn } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { TEST_QUEUE } from '../helpers/pubsub';
import { startTestServer, type TestServer } from '../helpers/server';

describe('the audit trail through GraphQL', () => {
  let server: TestServer;
  let admin: { id: string; email: string; token: string };
  let analystToken: string;
  let seniorToken: string;

  const metaOf = (actor: { id: string; email: string; role: Role } | null, requestId: string): RequestMeta => ({
    requestId,
    ip: '192.0.2.7',
    userAgent: 'seed',
    operationName: 'Seed',
    actor,
    sessionId: null,
  });

  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_RATE_LIMIT_ENABLED: 'false', DATABASE_POOL_MAX: '30' } });
    const a = await createUser(server, Role.ADMIN);
    admin = { ...a, token: (await signIn(server, a.email, a.password)).accessToken };
    const analyst = await createUser(server, Role.ANALYST);
    analystToken = (await signIn(server, analyst.email, analyst.password)).accessToken;
    const senior = await createUser(server, Role.SENIOR_ANALYST);
    seniorToken = (await signIn(server, senior.email, senior.password)).accessToken;

    const ana = { id: '00000000-0000-4000-8000-0000000000aa', email: 'ana@corp.example', role: Role.ANALYST };
    const bo = { id: '00000000-0000-4000-8000-0000000000bb', email: 'bo@corp.example', role: Role.INVESTIGATOR };
    const audit = server.services.audit;
    for (let i = 0; i < 5; i++) {
      await audit.recordSecurityEvent(metaOf(ana, `seed-a${i}`), { action: 'WIDGET_UPDATE', resourceType: 'Widget', resourceId: `w${i % 2}` });
    }
    await audit.recordSecurityEvent(metaOf(bo, 'seed-b'), {
      action: 'WIDGET_DELETE',
      resourceType: 'Widget',
      resourceId: 'w1',
      outcome: 'DENIED',
      reason: 'rule canSmashWidgets',
    });
    await audit.recordSecurityEvent(metaOf(null, 'seed-c'), { action: 'WIDGET_SWEEP', resourceType: 'Widget', outcome: 'FAILED' });
  });
  afterAll(() => server?.close());

  it('should refuse auditLogs to anonymous callers and to roles without AUDIT_ACCESS', async () => {
    const anonymous = await graphql(server.url, AuditLogsDocument, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const analyst = await graphql(server.url, AuditLogsDocument, {}, { token: analystToken });
    expect(analyst.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const verify = await graphql(server.url, VerifyAuditChainDocument, {}, { token: analystToken });
    expect(verify.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('should list newest first and page with cursors without overlap', async () => {
    const filter = { resourceType: 'Widget' };
    const first = await graphql(server.url, AuditLogsDocument, { first: 3, filter }, { token: admin.token });
    expect(first.errors).toBeUndefined();
    const page1 = first.data!.auditLogs!;
    expect(page1.totalCount).toBe(7);
    expect(page1.edges.map((e) => e.node.action)).toEqual(['WIDGET_SWEEP', 'WIDGET_DELETE', 'WIDGET_UPDATE']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const seqs1 = page1.edges.map((e) => Number(e.node.seq));
    expect(seqs1).toEqual([...seqs1].sort((a, b) => b - a));

    const second = await graphql(server.url, AuditLogsDocument, { first: 10, after: page1.pageInfo.endCursor, filter }, { token: admin.token });
    const page2 = second.data!.auditLogs!;
    expect(page2.edges).toHaveLength(4);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    expect(Math.max(...page2.edges.map((e) => Number(e.node.seq)))).toBeLessThan(Math.min(...seqs1));

    const node = page1.edges[1]!.node;
    expect(node).toMatchObject({
      actorEmail: 'bo@corp.example',
      actorRole: 'INVESTIGATOR',
      outcome: 'DENIED',
      ip: '192.0.2.7',
      userAgent: 'seed',
      requestId: 'seed-b',
    });
    expect(node.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(node.prevHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('should filter by actor, action, resource, outcome, time and free text', async () => {
    const count = async (filter: Record<string, unknown>) => {
      const res = await graphql(server.url, AuditLogsDocument, { first: 100, filter }, { token: admin.token });
      expect(res.errors).toBeUndefined();
      return res.data!.auditLogs!.totalCount;
    };
    expect(await count({ actorId: '00000000-0000-4000-8000-0000000000aa' })).toBe(5);
    expect(await count({ action: 'WIDGET_UPDATE', resourceId: 'w1' })).toBe(2);
    expect(await count({ resourceType: 'Widget', outcome: 'FAILED' })).toBe(1);
    expect(await count({ text: 'smash' })).toBe(1);
    expect(await count({ text: 'BO@CORP' })).toBe(1);
    expect(await count({ text: 'widget_' })).toBe(7);
    expect(await count({ text: '100%' })).toBe(0);
    expect(await count({ resourceType: 'Widget', from: new Date(Date.now() + 60_000).toISOString() })).toBe(0);
    expect(await count({ resourceType: 'Widget', to: new Date(Date.now() + 60_000).toISOString() })).toBe(7);
  });

  it('should answer BAD_USER_INPUT for a foreign cursor, a bad actor id, an inverted range or first over 100', async () => {
    const cases = [
      { after: 'bm9wZQ' },
      { after: Buffer.from('["1 or 1=1"]').toString('base64url') },
      { filter: { actorId: 'not-a-uuid' } },
      { filter: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } },
      { first: 101 },
    ];
    for (const variables of cases) {
      const res = await graphql(server.url, AuditLogsDocument, variables, { token: admin.token });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('should verify the chain for AUDIT_ACCESS', async () => {
    const res = await graphql(server.url, VerifyAuditChainDocument, {}, { token: admin.token });
    expect(res.errors).toBeUndefined();
    expect(res.data!.verifyAuditChain!.ok).toBe(true);
    expect(res.data!.verifyAuditChain!.firstBrokenSeq).toBeNull();
    expect(Number(res.data!.verifyAuditChain!.checkedCount)).toBeGreaterThanOrEqual(7);
    expect(server.services.audit.lastVerification()).toMatchObject({ ok: true });
  });

  it('should share the last verification with other instances and keep it across restarts', async () => {
    const other = await startTestServer({ database: server.database, redisPrefix: server.config.redisPrefix });
    try {
      const verified = other.pubsub.subscribe(AUDIT_CHAIN_VERIFIED, undefined, TEST_QUEUE);
      const next = verified.next();
      const res = await graphql(server.url, VerifyAuditChainDocument, {}, { token: admin.token });
      const { checkedCount } = res.data!.verifyAuditChain!;
      await next;
      await verified.return?.();
      await new Promise((r) => setImmediate(r));
      expect(other.services.audit.lastVerification()).toMatchObject({ ok: true, checkedCount: Number(checkedCount) });
      await expect(other.services.audit.refreshLastVerification()).resolves.toMatchObject({ ok: true, checkedCount: Number(checkedCount) });
    } finally {
      await other.close();
    }
  });

  it('should export a filtered range as verifiable JSON Lines, and audit the export', async () => {
    const refused = await graphql(server.url, ExportAuditLogsDocument, {}, { token: seniorToken });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const res = await graphql(server.url, ExportAuditLogsDocument, { filter: { resourceType: 'Widget' } }, { token: admin.token });
    expect(res.errors).toBeUndefined();
    const exported = res.data!.exportAuditLogs;
    expect(exported.format).toBe('jsonl');
    expect(exported.count).toBe(7);
    expect(exported.sha256).toBe(createHash('sha256').update(exported.content).digest('hex'));
    const lines = exported.content.trimEnd().split('\n').map((l) => JSON.parse(l) as ChainedContent & { id: string; hash: string });
    expect(lines.map((l) => l.action)).toEqual([...Array(5).fill('WIDGET_UPDATE'), 'WIDGET_DELETE', 'WIDGET_SWEEP']);
    for (const line of lines) {
      const { id: _id, hash, ...content } = line;
      expect(entryHash(content)).toBe(hash);
    }

    const [entry] = await auditEntries(server, { action: 'AUDIT_EXPORT' });
    expect(entry).toMatchObject({
      actorId: admin.id,
      actorEmail: admin.email,
      outcome: 'SUCCESS',
      resourceType: 'AuditLog',
      changes: { filter: { resourceType: 'Widget' }, count: 7, sha256: exported.sha256 },
    });
  });

  it('should keep one unbroken chain under 200 concurrent mutations', async () => {
    const before = (await auditEntries(server, { action: 'INVESTIGATION_CREATE' })).length;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        graphql(server.url, CreateInvestigationDocument, { input: { title: `Concurrent case ${i}` } }, { token: admin.token }),
      ),
    );
    expect(results.filter((r) => r.errors)).toEqual([]);
    const entries = await auditEntries(server, { action: 'INVESTIGATION_CREATE' });
    expect(entries.length - before).toBe(200);
    const ids = new Set(results.map((r) => r.data!.createInvestigation.id));
    expect(entries.filter((e) => ids.has(e.resourceId!))).toHaveLength(200);
    const verify = await graphql(server.url, VerifyAuditChainDocument, {}, { token: admin.token });
    expect(verify.data!.verifyAuditChain!).toMatchObject({ ok: true, firstBrokenSeq: null });
  }, 180_000);

  it('should leave neither the change nor its entry when the connection dies mid-mutation', async () => {
    const title = `Killed mid-flight ${Date.now()}`;
    // Hold the chain lock from outside, so the mutation stops inside its transaction right after
    // its insert, waiting to append its entry; then kill that backend.
    const holder = new Client({ connectionString: server.database.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(${AUDIT_LOCKS.chain})`);
      const pending = graphql(server.url, CreateInvestigationDocument, { input: { title } }, { token: admin.token });
      // The mutation's backend: waiting for the chain lock, having written to `investigation`
      // (background writers such as the alerts area may be waiting for the lock too).
      let waiting: number[] = [];
      while (waiting.length === 0) {
        const { rows } = await holder.query<{ pid: number }>(
          `select w.pid from pg_locks w
           where w.locktype = 'advisory' and not w.granted and w.objid = $1
             and exists (select 1 from pg_locks r where r.pid = w.pid and r.granted and r.locktype = 'relation'
                         and r.relation = 'investigation'::regclass and r.mode = 'RowExclusiveLock')`,
          [AUDIT_LOCKS.chain % 2 ** 32],
        );
        waiting = rows.map((r) => r.pid);
        if (waiting.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
      expect(waiting).toHaveLength(1);
      const pid = waiting[0]!;
      const { rows: inserted } = await holder.query(`select query from pg_stat_activity where pid = $1`, [pid]);
      expect(inserted[0].query).toMatch(/vigil_audit_chain_head/);
      await holder.query('select pg_terminate_backend($1)', [pid]);
      await holder.query('commit');
      const res = await pending;
      // A connection lost to the database is an outage (retryable), not a bug.
      expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await holder.end();
    }
    const rows = await server.orm.em.fork().execute('select id from investigation where title = ?', [title]);
    expect(rows).toEqual([]);
    const entries = await auditEntries(server, { action: 'INVESTIGATION_CREATE' });
    expect(entries.filter((e) => (e.changes?.after as { title?: string } | undefined)?.title === title)).toEqual([]);

    const after = await graphql(server.url, CreateInvestigationDocument, { input: { title: `${title} retried` } }, { token: admin.token });
    expect(after.errors).toBeUndefined();
    const verify = await graphql(server.url, VerifyAuditChainDocument, {}, { token: admin.token });
    expect(verify.data!.verifyAuditChain!).toMatchObject({ ok: true, firstBrokenSeq: null });
  });
});
