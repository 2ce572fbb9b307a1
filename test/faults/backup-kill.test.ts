import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashPassword } from '../../src/services/auth/passwords';
import { scratchPrefix } from '../../src/services/backups/backup-verify';
import { signIn } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { createTestDatabase, testRedisUrl, type TestDatabase } from '../helpers/database';
import { withClient } from '../helpers/postgres';
import { startTestServer } from '../helpers/server';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process';
import { commandOf, descendantsOf, until } from './process-tree';

/**
 * SIGKILL of a real gateway process in the middle of each backup operation (pg_dump or pg_restore
 * observed running), then a restart on the same database and backup directory: nothing stays
 * RUNNING, no partial file, no scratch database, no orphan process, and the audit trail says what
 * happened.
 */
describe('a gateway killed during a backup operation', () => {
  let database: TestDatabase;
  let backupDir: string;
  const redisPrefix = `test:${randomUUID().slice(0, 8)}:`;
  const email = `kill-admin-${randomUUID().slice(0, 8)}@test.vigil`;
  const password = `Kill-${randomUUID()}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    backupDir = mkdtempSync(path.join(tmpdir(), 'vigil-kill-backups-'));
    const hash = await hashPassword(password);
    await withClient(database.url, async (c) => {
      await c.query(`insert into "user" (id, email, name, role, password_hash) values ($1, $2, 'Kill admin', 'SUPER_ADMIN', $3)`, [randomUUID(), email, hash]);
      // Enough rows that pg_dump and pg_restore run long enough to be caught in the act.
      await c.query('create table ballast (id bigserial primary key, body text not null)');
      await c.query(`insert into ballast (body) select md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text) from generate_series(1, 300000) i`);
    });
  }, 120_000);

  afterAll(async () => {
    await database.drop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  const env = () => ({
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    VIGIL_REDIS_PREFIX: redisPrefix,
    VIGIL_BACKUP_DIR: backupDir,
    VIGIL_BACKUP_SCHEDULE: 'off',
    VIGIL_BACKUP_DRILL_SCHEDULE: 'off',
    VIGIL_BACKUP_KEEP_LAST: '0',
  });

  /** Signs in on a spawned gateway; a failure shows what the gateway logged. */
  const signInTo = async (gateway: GatewayProcess) => {
    try {
      return await signIn(gateway, email, password);
    } catch (error) {
      throw new Error(`${String(error)}; the gateway logged:\n${gateway.output().slice(-4000)}`);
    }
  };

  const query = <T>(sql: string, params: unknown[] = []) => withClient(database.url, async (c) => (await c.query(sql, params)).rows as T[]);

  /** Kills the gateway with SIGKILL once `inTheAct` sees the operation's tool at work. */
  async function killDuring(gateway: GatewayProcess, inTheAct: () => Promise<boolean>, tool: 'pg_dump' | 'pg_restore'): Promise<void> {
    await until(`${tool} at work`, async () => ((await inTheAct()) ? true : undefined), 60_000, 10);
    const family = descendantsOf(gateway.pid);
    expect(family.map((pid) => commandOf(pid) ?? '').some((cmd) => cmd.includes(tool))).toBe(true);
    gateway.child.kill('SIGKILL');
    await gateway.exited;
    // The tools die with their parent (the watchdog's pipe closed), not when their work is done.
    await until('no orphan client tools', () => (family.every((pid) => commandOf(pid) === null) ? true : undefined), 15_000);
    // PostgreSQL notices the dead instance's sessions are gone.
    await until('the dead gateway’s sessions to end', async () =>
      (await query(`select 1 from pg_stat_activity where datname = $1 and application_name like 'vigil-%' and state is not null`, [database.name])).length === 0
        ? true
        : undefined,
    );
  }

  /** Restarts the gateway (in-process) and waits for its start-up reconciliation. */
  async function restartAndCheck(): Promise<void> {
    const server = await startTestServer({ database, redisPrefix, env: env() });
    try {
      await server.services.backups.idle();
      expect(await query(`select id from backup where status = 'RUNNING'`)).toEqual([]);
      expect(await query(`select id from backup_operation where status = 'RUNNING'`)).toEqual([]);
      expect(readdirSync(backupDir).filter((f) => f.endsWith('.partial') || f.endsWith('.list'))).toEqual([]);
      expect(await query(`select datname from pg_database where starts_with(datname, $1)`, [scratchPrefix(database.url)])).toEqual([]);
      expect(await server.services.audit.verifyChain()).toMatchObject({ ok: true });
    } finally {
      await server.close();
    }
  }

  const lastAudit = async (action: string, resourceId: string) =>
    (
      await query<{ outcome: string; reason: string | null }>(
        `select outcome, reason from audit_log where action = $1 and resource_id = $2 order by seq desc limit 1`,
        [action, resourceId],
      )
    )[0];

  it('during createBackup: the backup is FAILED with an audit entry, no .partial stays, and it can be deleted', async () => {
    const gateway = await startGatewayProcess({ env: env() });
    const { accessToken } = await signInTo(gateway);
    const created = await graphql<{ createBackup: { id: string; status: string } }>(
      gateway.url,
      'mutation { createBackup(label: "killed") { id status } }',
      undefined,
      { token: accessToken },
    );
    const id = created.data!.createBackup.id;
    await killDuring(
      gateway,
      async () => readdirSync(backupDir).includes(`${id}.dump.partial`) && (await query(`select 1 from pg_stat_activity where query ilike 'COPY%ballast%'`)).length > 0,
      'pg_dump',
    );
    expect(await query(`select status from backup where id = $1`, [id])).toEqual([{ status: 'RUNNING' }]);
    await restartAndCheck();
    expect(await query(`select status from backup where id = $1`, [id])).toEqual([{ status: 'FAILED' }]);
    expect(await lastAudit('BACKUP_COMPLETE', id)).toMatchObject({ outcome: 'FAILED', reason: expect.stringContaining('interrupted') });

    const again = await startTestServer({ database, redisPrefix, env: env() });
    try {
      const { accessToken: token } = await signIn(again, email, password);
      const deleted = await graphql(again.url, `mutation { deleteBackup(id: "${id}") }`, undefined, { token });
      expect(deleted.errors).toBeUndefined();
    } finally {
      await again.close();
    }
  }, 180_000);

  it('during verifyBackup: no pg_restore keeps running, the scratch database is dropped, the verification is audited FAILED', async () => {
    const server = await startTestServer({ database, redisPrefix, env: env() });
    let id: string;
    try {
      const { backup, done } = await server.services.backups.begin(
        { requestId: randomUUID(), ip: '127.0.0.1', userAgent: null, operationName: 'test', actor: null, sessionId: null },
        { label: 'to verify', trigger: 'MANUAL' as never },
      );
      id = backup.id;
      expect((await done).status).toBe('SUCCEEDED');
    } finally {
      await server.close();
    }
    const gateway = await startGatewayProcess({ env: env() });
    const { accessToken } = await signInTo(gateway);
    const answer = graphql(gateway.url, `mutation { verifyBackup(id: "${id}") { ok } }`, undefined, { token: accessToken }).catch(() => null);
    const prefix = scratchPrefix(database.url);
    await killDuring(
      gateway,
      async () => (await query(`select 1 from pg_stat_activity where starts_with(datname, $1) and query ilike 'COPY%'`, [prefix])).length > 0,
      'pg_restore',
    );
    expect(await answer).toBeNull();
    const [scratch] = await query<{ datname: string }>(`select datname from pg_database where starts_with(datname, $1)`, [prefix]);
    // pg_restore was stopped, not left to finish: the scratch database never got all the rows.
    const restored = await withClient(`${database.url.replace(/\/[^/]*$/, '')}/${scratch!.datname}`, async (c) =>
      Number((await c.query<{ n: string }>(`select case when to_regclass('public.ballast') is null then 0 else (select count(*) from ballast) end as n`)).rows[0]!.n),
    );
    expect(restored).toBeLessThan(300000);
    await restartAndCheck();
    expect(await lastAudit('BACKUP_VERIFY', id)).toMatchObject({ outcome: 'FAILED', reason: expect.stringContaining('interrupted') });
  }, 180_000);

  it('during restoreBackup: pg_restore dies with the gateway, the database is as it was, and the restore is audited FAILED', async () => {
    const [{ id }] = await query<{ id: string }>(`select id from backup where status = 'SUCCEEDED' order by started_at desc limit 1`);
    await query(`insert into ballast (body) values ('written after the backup')`);
    const before = await query<{ n: string }>(`select count(*)::text as n from ballast`);

    const gateway = await startGatewayProcess({ env: env() });
    const { accessToken } = await signInTo(gateway);
    const answer = graphql(gateway.url, `mutation { restoreBackup(id: "${id}", confirm: "${id}") { ok } }`, undefined, { token: accessToken }).catch(
      () => null,
    );
    await killDuring(
      gateway,
      async () => (await query(`select 1 from pg_stat_activity where application_name like 'vigil-restore-%' and query ilike 'COPY%'`)).length > 0,
      'pg_restore',
    );
    expect(await answer).toBeNull();
    await restartAndCheck();
    expect(await query(`select count(*)::text as n from ballast`)).toEqual(before);
    expect(await query(`select 1 from ballast where body = 'written after the backup'`)).toHaveLength(1);
    expect(await lastAudit('BACKUP_RESTORE', id!)).toMatchObject({ outcome: 'FAILED', reason: expect.stringContaining('rolled the restore back') });
  }, 180_000);
});
