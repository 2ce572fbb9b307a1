import { systemMeta, type RequestMeta } from '../../src/context';
import { openOrm, type MikroORM } from '../../src/infra/db';
import { createLogger } from '../../src/infra/logger';
import { createVigilPubSub } from '../../src/infra/pubsub';
import { Role } from '../../src/permissions/roles';
import { AUDIT_CHAIN_BROKEN, AUDIT_LOCKS, AuditService } from '../../src/services/audit/audit.service';
import { TEST_QUEUE } from '../helpers/pubsub';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

const meta: RequestMeta = {
  requestId: 'req-1',
  ip: '10.0.0.1',
  userAgent: 'jest',
  operationName: 'TestOp',
  actor: { id: '00000000-0000-4000-8000-000000000001', email: 'ana@example.com', role: Role.ANALYST },
  sessionId: null,
};

describe('the audit chain', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let audit: AuditService;
  const pubsub = createVigilPubSub();

  beforeEach(async () => {
    database = await createTestDatabase();
    orm = await openOrm(database.url, 50, createLogger('silent'));
    audit = new AuditService({ orm, pubsub, logger: createLogger('silent') });
  });
  afterEach(async () => {
    await orm.close(true);
    await database.drop();
  });

  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    orm.em.fork().execute<T[]>(query, params);

  async function writeEntries(n: number) {
    for (let i = 0; i < n; i++) {
      await orm.em.fork().transactional((tx) =>
        audit.record(tx, meta, { action: 'TEST_WRITE', resourceType: 'Thing', resourceId: `t${i}`, changes: { after: { n: i } } }),
      );
    }
  }

  it('should chain entries: seq 1, 2, 3 with each prevHash the previous hash, and verify ok', async () => {
    await writeEntries(3);
    const rows = await sql<{ seq: string; hash: string; prev_hash: string | null }>('select seq, hash, prev_hash from audit_log order by seq');
    expect(rows.map((r) => r.seq)).toEqual(['1', '2', '3']);
    expect(rows[0]!.prev_hash).toBeNull();
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(rows[2]!.prev_hash).toBe(rows[1]!.hash);
    expect(rows[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    await expect(audit.verifyChain()).resolves.toEqual({ ok: true, checkedCount: 3, firstBrokenSeq: null });
    expect(audit.lastVerification()).toMatchObject({ ok: true, checkedCount: 3, firstBrokenSeq: null });
  });

  it('should store actor, request and masked changes', async () => {
    await orm.em.fork().transactional((tx) =>
      audit.record(tx, meta, {
        action: 'FINDING_ADD',
        resourceType: 'Finding',
        resourceId: 'f1',
        changes: { after: { summary: 'phishing', subjectEmail: 'victim@example.com', subject_ip: '1.2.3.4', subjectName: null } },
        reason: 'because',
      }),
    );
    const [row] = await sql('select * from audit_log');
    expect(row).toMatchObject({
      actor_id: meta.actor!.id,
      actor_email: 'ana@example.com',
      actor_role: 'ANALYST',
      action: 'FINDING_ADD',
      outcome: 'SUCCESS',
      ip: '10.0.0.1',
      user_agent: 'jest',
      request_id: 'req-1',
      operation_name: 'TestOp',
      reason: 'because',
      changes: { after: { summary: 'phishing', subjectEmail: '[masked]', subject_ip: '[masked]', subjectName: null } },
    });
  });

  it('should record a system actor as nulls', async () => {
    await audit.recordSecurityEvent(systemMeta('retention'), { action: 'SYSTEM_THING', outcome: 'FAILED' });
    const [row] = await sql('select actor_id, actor_email, actor_role, outcome from audit_log');
    expect(row).toEqual({ actor_id: null, actor_email: null, actor_role: null, outcome: 'FAILED' });
  });

  it('should refuse UPDATE, DELETE and TRUNCATE on the audit table', async () => {
    await writeEntries(2);
    await expect(sql(`update audit_log set action = 'X' where seq = 1`)).rejects.toThrow(/append-only/);
    await expect(sql('delete from audit_log where seq = 1')).rejects.toThrow(/append-only/);
    await expect(sql('truncate audit_log')).rejects.toThrow(/append-only/);
    await expect(sql(`insert into audit_anchor (seq, hash, removed_count) values (1, 'x', 1)`)).rejects.toThrow(/retention job/);
    expect(await sql('select count(*)::int as n from audit_log')).toEqual([{ n: 2 }]);
  });

  it('should name the entry whose row was changed with the trigger bypassed, and announce it', async () => {
    await writeEntries(5);
    const broken = pubsub.subscribe(AUDIT_CHAIN_BROKEN, undefined, TEST_QUEUE);
    const next = broken.next();
    await orm.em.fork().transactional(async (tx) => {
      await tx.execute('set local session_replication_role = replica');
      await tx.execute(`update audit_log set changes = '{"after":{"n":999}}' where seq = 3`);
    });
    await expect(audit.verifyChain()).resolves.toEqual({ ok: false, checkedCount: 3, firstBrokenSeq: '3' });
    await expect(next).resolves.toEqual({ done: false, value: { firstBrokenSeq: '3' } });
    await broken.return?.();
    expect(audit.lastVerification()).toMatchObject({ ok: false, firstBrokenSeq: '3' });
    const [event] = await sql<{ action: string; resource_id: string }>(`select action, resource_id from audit_log where action = 'AUDIT_CHAIN_BROKEN'`);
    expect(event).toEqual({ action: 'AUDIT_CHAIN_BROKEN', resource_id: '3' });
  });

  it('should name a deleted entry', async () => {
    await writeEntries(5);
    await sql('alter table audit_log disable trigger audit_log_append_only');
    await sql('delete from audit_log where seq = 2');
    await sql('alter table audit_log enable trigger audit_log_append_only');
    await expect(audit.verifyChain()).resolves.toMatchObject({ ok: false, firstBrokenSeq: '2' });
  });

  it('should detect removal of the newest entries since the last verification', async () => {
    await writeEntries(4);
    await expect(audit.verifyChain()).resolves.toMatchObject({ ok: true, checkedCount: 4 });
    await sql('alter table audit_log disable trigger audit_log_append_only');
    await sql('delete from audit_log where seq >= 3');
    await sql('alter table audit_log enable trigger audit_log_append_only');
    await expect(audit.verifyChain()).resolves.toMatchObject({ ok: false, firstBrokenSeq: '3' });
  });

  it('should keep one unbroken chain under 200 concurrent writers', async () => {
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        orm.em.fork().transactional((tx) => audit.record(tx, meta, { action: 'CONCURRENT', resourceId: String(i) })),
      ),
    );
    expect(await sql('select count(*)::int as n, count(distinct resource_id)::int as d, max(seq)::int as m from audit_log')).toEqual([
      { n: 200, d: 200, m: 200 },
    ]);
    await expect(audit.verifyChain()).resolves.toEqual({ ok: true, checkedCount: 200, firstBrokenSeq: null });
  }, 120_000);

  it('should leave no entry when the caller rolls back, and roll the caller back when the entry fails', async () => {
    await expect(
      orm.em.fork().transactional(async (tx) => {
        await tx.execute(`insert into system_setting (key, value) values ('rolled', '1')`);
        await audit.record(tx, meta, { action: 'SETTING_CHANGE' });
        throw new Error('boom after the change');
      }),
    ).rejects.toThrow('boom');
    await expect(
      orm.em.fork().transactional(async (tx) => {
        await tx.execute(`insert into system_setting (key, value) values ('rolled2', '1')`);
        await audit.record(tx, meta, { action: '' });
      }),
    ).rejects.toThrow(/action/);
    expect(await sql('select count(*)::int as n from audit_log')).toEqual([{ n: 0 }]);
    expect(await sql(`select count(*)::int as n from system_setting where key like 'rolled%'`)).toEqual([{ n: 0 }]);
  });

  it('should keep hashes verifiable for awkward content: NUL, lone surrogates, dates, bigints, nesting', async () => {
    await orm.em.fork().transactional((tx) =>
      audit.record(tx, meta, {
        action: 'AWKWARD',
        resourceId: 'nul\u0000id',
        reason: 'lone \ud800 surrogate',
        changes: { when: new Date('2026-01-02T03:04:05.006Z'), big: 12345678901234567890n, nested: { b: [1, 2.5, null, -0], a: 'x\u0000y' }, gone: undefined },
      }),
    );
    const [row] = await sql<{ changes: unknown; resource_id: string }>('select changes, resource_id from audit_log');
    expect(row!.resource_id).toBe('nul\ufffdid');
    expect(row!.changes).toEqual({ when: '2026-01-02T03:04:05.006Z', big: '12345678901234567890', nested: { b: [1, 2.5, null, 0], a: 'x\ufffdy' } });
    await expect(audit.verifyChain()).resolves.toMatchObject({ ok: true, checkedCount: 1 });
  });

  it('should refuse to append under REPEATABLE READ, where the chain head would be stale', async () => {
    const { IsolationLevel } = await import('@mikro-orm/core');
    await expect(
      orm.em.fork().transactional((tx) => audit.record(tx, meta, { action: 'X' }), { isolationLevel: IsolationLevel.REPEATABLE_READ }),
    ).rejects.toThrow(/READ COMMITTED/);
  });

  it('should remove old entries, anchor the chain so it still verifies, and continue it', async () => {
    await writeEntries(3);
    const [{ cutoff }] = await sql<{ cutoff: string }>(`select (max(at) + interval '1 millisecond')::text as cutoff from audit_log`);
    await new Promise((r) => setTimeout(r, 5));
    await writeEntries(2);
    const retained = new AuditService({ orm, pubsub, logger: createLogger('silent'), retentionDays: 30 });
    const now = new Date(new Date(cutoff!).getTime() + 30 * 24 * 3600 * 1000);

    await expect(retained.applyRetention(now)).resolves.toEqual({ removed: 3, anchorSeq: '3' });
    expect((await sql<{ seq: string }>('select seq from audit_log order by seq')).map((r) => r.seq)).toEqual(['4', '5', '6']);
    expect(await sql('select seq, removed_count from audit_anchor')).toEqual([{ seq: '3', removed_count: '3' }]);
    const [entry] = await sql<{ action: string; changes: { removed: number } }>(`select action, changes from audit_log where seq = 6`);
    expect(entry).toMatchObject({ action: 'AUDIT_RETENTION', changes: { removed: 3, anchorSeq: '3' } });
    await expect(retained.verifyChain()).resolves.toEqual({ ok: true, checkedCount: 3, firstBrokenSeq: null });

    await expect(retained.applyRetention(new Date(Date.now() + 365 * 24 * 3600 * 1000))).resolves.toEqual({ removed: 3, anchorSeq: '6' });
    await writeEntries(1);
    expect(await sql('select seq from audit_log where action = ?', ['TEST_WRITE'])).toEqual([{ seq: '8' }]);
    await expect(retained.verifyChain()).resolves.toEqual({ ok: true, checkedCount: 2, firstBrokenSeq: null });
  });

  it('should run retention on one instance only: a second run while the first holds the job does nothing', async () => {
    await writeEntries(2);
    const retained = new AuditService({ orm, pubsub, logger: createLogger('silent'), retentionDays: 1 });
    const later = new Date(Date.now() + 2 * 24 * 3600 * 1000);
    await orm.em.fork().transactional(async (tx) => {
      await tx.execute(`select pg_advisory_xact_lock(${AUDIT_LOCKS.retention})`);
      await expect(retained.applyRetention(later)).resolves.toBeNull();
    });
    expect(await sql('select count(*)::int as n from audit_log')).toEqual([{ n: 2 }]);
    await expect(retained.applyRetention(later)).resolves.toEqual({ removed: 2, anchorSeq: '2' });
  });

  it('should detect a forged anchor written with the trigger bypassed', async () => {
    await writeEntries(3);
    await orm.em.fork().transactional(async (tx) => {
      await tx.execute(`select set_config('vigil.audit_retention', 'on', true)`);
      await tx.execute('delete from audit_log where seq <= 2');
      await tx.execute(`insert into audit_anchor (seq, hash, removed_count) values (2, 'forged', 2)`);
    });
    await expect(audit.verifyChain()).resolves.toMatchObject({ ok: false, firstBrokenSeq: '3' });
  });

  it('should lose both the change and its entry when the backend holding the chain lock is killed, and let the next writer on', async () => {
    let waiting: Promise<void> | undefined;
    const doomed = orm.em.fork().transactional(async (tx) => {
      await tx.execute(`insert into system_setting (key, value) values ('doomed', '1')`);
      await audit.record(tx, meta, { action: 'DOOMED_CHANGE' });
      const [{ pid }] = await tx.execute<{ pid: number }[]>('select pg_backend_pid() as pid');
      // A second writer queues behind the lock this transaction holds.
      waiting = orm.em.fork().transactional((other) => audit.record(other, meta, { action: 'NEXT_WRITER' }));
      await sql('select pg_terminate_backend(?)', [pid]);
    });
    await expect(doomed).rejects.toThrow();
    await waiting;
    expect(await sql(`select count(*)::int as n from system_setting where key = 'doomed'`)).toEqual([{ n: 0 }]);
    expect(await sql<{ seq: string; action: string }>('select seq, action from audit_log order by seq')).toEqual([{ seq: '1', action: 'NEXT_WRITER' }]);
    await expect(audit.verifyChain()).resolves.toEqual({ ok: true, checkedCount: 1, firstBrokenSeq: null });
  });
});
