import { Role } from '../../src/permissions/roles';
import { withClient } from '../helpers/postgres';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

/** One createInvestigation sent by the writer on the second instance. */
interface Write {
  title: string;
  sentAt: number;
  answeredAt: number;
  id: string | null;
  code: string | null;
  retryAfter: unknown;
}

/**
 * Two gateways on one database and one Redis; the second writes without pause while the first
 * restores. The restore must succeed, writes must be refused cluster-wide while it runs, and no
 * write the gateway acknowledged after the refusal began may be lost. A restore that fails must
 * leave every acknowledged write where it was.
 */
describe('restore while another instance writes', () => {
  let a: TestServer;
  let b: TestServer;
  let admin: string;
  let analyst: string;

  beforeAll(async () => {
    a = await startTestServer({ env: { VIGIL_BACKUP_KEEP_LAST: '0', VIGIL_BACKUP_SCHEDULE: 'off', VIGIL_BACKUP_DRILL_SCHEDULE: 'off' } });
    b = await startTestServer({
      database: a.database,
      redisPrefix: a.config.redisPrefix,
      env: { VIGIL_BACKUP_DIR: a.config.backups.dir, VIGIL_BACKUP_SCHEDULE: 'off', VIGIL_BACKUP_DRILL_SCHEDULE: 'off' },
    });
    admin = await tokenFor(a, Role.SUPER_ADMIN);
    analyst = await tokenFor(b, Role.ANALYST);
  }, 60_000);
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  /** Writes on `b` until `stop` is called; returns every write's outcome. */
  function writer(prefix: string): { stop(): Promise<Write[]> } {
    const writes: Write[] = [];
    let running = true;
    const loop = (async () => {
      for (let n = 0; running; n++) {
        const title = `${prefix}-${n}`;
        const sentAt = performance.now();
        try {
          const res = await graphql<{ createInvestigation: { id: string } }>(
            b.url,
            'mutation ($title: String!) { createInvestigation(input: { title: $title }) { id } }',
            { title },
            { token: analyst },
          );
          const error = res.errors?.[0];
          writes.push({
            title,
            sentAt,
            answeredAt: performance.now(),
            id: res.data?.createInvestigation?.id ?? null,
            code: error ? String(error.extensions?.code) : null,
            retryAfter: error?.extensions?.retryAfter,
          });
        } catch (error) {
          writes.push({ title, sentAt, answeredAt: performance.now(), id: null, code: `transport: ${String(error)}`, retryAfter: undefined });
        }
        // A refused write is retried a little later, as a client honouring retryAfter would, only faster.
        if (writes.at(-1)!.code) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    return {
      async stop() {
        running = false;
        await loop;
        return writes;
      },
    };
  }

  const stored = async (ids: string[]) =>
    withClient(a.database.url, async (c) => (await c.query<{ id: string }>('select id from investigation where id = any($1::uuid[])', [ids])).rows.map((r) => r.id));

  async function takeBackup(): Promise<string> {
    const res = await graphql<{ createBackup: { id: string } }>(a.url, 'mutation { createBackup(label: "under writes") { id } }', undefined, { token: admin });
    const id = res.data!.createBackup.id;
    await a.services.backups.idle();
    return id;
  }

  const restore = (id: string) =>
    graphql<{ restoreBackup: { ok: boolean; rolledBack: boolean; databaseState: string; error: string | null } }>(
      a.url,
      'mutation ($id: ID!, $confirm: String!) { restoreBackup(id: $id, confirm: $confirm) { ok rolledBack databaseState error } }',
      { id, confirm: id },
      { token: admin },
    );

  it('succeeds; writes are refused with SERVICE_UNAVAILABLE until it ends, and none acknowledged after the refusal began is lost', async () => {
    const backupId = await takeBackup();
    const load = writer('during-restore');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The writer's instance lifts maintenance before the restore's answer reaches its caller (and
    // may accept writes meanwhile): the closed window ends when B applies the end, as B sees it.
    let liftedOnB = Infinity;
    const liftedAtVersions: number[] = [];
    const unlisten = b.services.settings.onChange((next, previous) => {
      if (!previous.maintenance.enabled || next.maintenance.enabled) return;
      liftedOnB = Math.min(liftedOnB, performance.now());
      liftedAtVersions.push(next.version);
    });
    const calledAt = performance.now();
    const result = await restore(backupId);
    const endedAt = Math.min(performance.now(), liftedOnB);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const writes = await load.stop();
    unlisten();

    expect(result.errors).toBeUndefined();
    expect(result.data!.restoreBackup).toMatchObject({ ok: true, databaseState: 'RESTORED', error: null });
    // B lifted maintenance once, and only with the change that ended the restore (never mid-restore).
    expect(liftedAtVersions).toHaveLength(1);
    const [ending] = await withClient(a.database.url, async (c) =>
      (await c.query<{ reason: string | null }>('select reason from system_settings_change where version = $1', [liftedAtVersions[0]])).rows,
    );
    expect(ending?.reason).toMatch(/^maintenance left: /);

    const refused = writes.filter((w) => w.code !== null);
    expect(refused.length).toBeGreaterThan(0);
    for (const w of refused) expect(w).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfter: expect.any(Number) });
    // From the first refusal until the writer's instance reopened, every write was refused (how soon
    // after the call the refusals begin is not asserted: it depends on the machine's load).
    const firstRefusal = refused.find((w) => w.sentAt >= calledAt)!;
    expect(firstRefusal.answeredAt).toBeLessThan(endedAt);
    const closed = writes.filter((w) => w.sentAt >= firstRefusal.answeredAt && w.answeredAt <= endedAt);
    expect(closed.length).toBeGreaterThan(0);
    expect(closed.filter((w) => w.id !== null)).toEqual([]);
    // Acknowledged after the refusal began: all still there after the restore.
    const later = writes.filter((w) => w.id !== null && w.sentAt >= firstRefusal.answeredAt).map((w) => w.id!);
    expect(later.length).toBeGreaterThan(0);
    expect((await stored(later)).sort()).toEqual([...later].sort());
    expect(await a.services.audit.verifyChain()).toMatchObject({ ok: true });
  }, 120_000);

  it('a restore that fails under writes leaves every acknowledged write in place, says so, and the audit chain verifies', async () => {
    await withClient(a.database.url, async (c) => {
      await c.query(`create function trap_ok(v int) returns boolean language sql immutable as 'select v < 10'`);
      await c.query('create table trap (v int check (trap_ok(v)))');
      await c.query('insert into trap values (5)');
      await c.query(`create or replace function trap_ok(v int) returns boolean language sql immutable as 'select v < 0'`);
    });
    const broken = await takeBackup();
    await withClient(a.database.url, async (c) => {
      await c.query('drop table trap');
      await c.query('drop function trap_ok(int)');
    });
    const load = writer('failed-restore');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const result = await restore(broken);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const writes = await load.stop();

    expect(result.errors).toBeUndefined();
    expect(result.data!.restoreBackup).toMatchObject({ ok: false, rolledBack: true, databaseState: 'UNCHANGED', error: expect.stringContaining('trap') });
    const acknowledged = writes.filter((w) => w.id !== null).map((w) => w.id!);
    expect(acknowledged.length).toBeGreaterThan(0);
    expect((await stored(acknowledged)).sort()).toEqual([...acknowledged].sort());
    for (const w of writes.filter((x) => x.code !== null)) expect(w.code).toBe('SERVICE_UNAVAILABLE');
    expect(await a.services.audit.verifyChain()).toMatchObject({ ok: true });
  }, 120_000);
});
