import { readFileSync, writeFileSync, truncateSync, statSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { systemMeta } from '../../src/context';
import { BackupStatus, BackupTrigger } from '../../src/schema/backup.enums';
import { BACKUP_EVENTS } from '../../src/services/backups/backup.service';
import { scratchPrefix } from '../../src/services/backups/backup-verify';
import { withClient } from '../helpers/postgres';
import { startTestServer, type TestServer } from '../helpers/server';
import { TEST_QUEUE } from '../helpers/pubsub';
import { adminMeta, finished, mutateData, seedDemoData, tableDigests } from './backup-helpers';

/**
 * Tables a restore legitimately changes afterwards: the audit entry of the restore itself, and the
 * alert the alerts area raises on BACKUP_RESTORED / BACKUP_FAILED.
 */
// Written by the restore itself after (or around) pg_restore: its audit entries and alerts, and the
// maintenance lease it holds (entered and left as new settings versions with history entries).
const AFTER_RESTORE = ['audit_log', 'alert', 'alert_delivery', 'system_settings_state', 'system_settings_change'];

describe('BackupService', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_BACKUP_KEEP_LAST: '0' } });
    await seedDemoData(server.database.url);
  });
  afterAll(() => server.close());

  const backups = () => server.services.backups;

  it('reports the pg_dump it found and that it matches the server', async () => {
    const tool = await backups().backupTool();
    expect(tool).toMatchObject({ available: true, serverMajor: 15 });
    expect(tool.version).toMatch(/PostgreSQL\) 15\./);
  });

  it('creates a backup: RUNNING at once, then SUCCEEDED with a manifest beside the file and in the database', async () => {
    const { backup, done } = await backups().begin(adminMeta(), { label: 'first', trigger: BackupTrigger.MANUAL });
    expect(backup.status).toBe(BackupStatus.RUNNING);
    const result = await finished(done);
    expect(result.sizeBytes).toBeGreaterThan(0);
    const file = path.join(server.config.backups.dir, `${result.id}.dump`);
    expect(statSync(file).size).toBe(result.sizeBytes);
    const manifest = JSON.parse(readFileSync(path.join(server.config.backups.dir, `${result.id}.manifest.json`), 'utf8'));
    expect(manifest).toMatchObject({
      id: result.id,
      label: 'first',
      trigger: 'MANUAL',
      sizeBytes: result.sizeBytes,
      sha256: result.sha256,
      database: { name: server.database.name },
      schemaVersion: expect.stringMatching(/^Migration\d+_/),
      server: { version: expect.stringMatching(/^15\./) },
    });
    expect(manifest.rowCounts['public.demo_item']).toBe(20);
    expect(manifest.rowCounts['public.backup']).toBeUndefined();
    expect(await backups().lastSuccessfulBackupAt()).toEqual(result.finishedAt);
  });

  it('refuses a second backup while one runs (CONFLICT)', async () => {
    const { done } = await backups().begin(adminMeta(), { label: null, trigger: BackupTrigger.MANUAL });
    await expect(backups().create(adminMeta())).rejects.toMatchObject({ extensions: { code: 'CONFLICT' } });
    await finished(done);
  });

  it('verifies a good backup with a trial restore into a scratch database that is then dropped', async () => {
    const { done } = await backups().begin(adminMeta(), { label: null, trigger: BackupTrigger.MANUAL });
    const backup = await finished(done);
    const verification = await backups().verify(adminMeta(), backup.id);
    expect(verification.checks.filter((c) => !c.ok)).toEqual([]);
    expect(verification.ok).toBe(true);
    expect(verification.checks.map((c) => c.name)).toEqual(['manifest', 'size', 'checksum', 'database', 'archive', 'trialRestore', 'rowCounts']);
    const scratch = await withClient(server.database.url, (c) => c.query(`select datname from pg_database where starts_with(datname, $1)`, [scratchPrefix(server.database.url)]));
    expect(scratch.rows).toEqual([]);
    const evidence = await backups().verificationsOf(server.orm.em.fork(), [backup.id]);
    expect(evidence.get(backup.id)).toHaveLength(1);
  });

  it('round trip: data → backup → change and delete → restore → every table equals the original', async () => {
    const url = server.database.url;
    const before = await tableDigests(url, AFTER_RESTORE);
    const auditBefore = await withClient(url, (c) => c.query<{ n: string }>('select count(*) as n from audit_log'));
    const backup = await finished((await backups().begin(adminMeta(), { label: 'round trip', trigger: BackupTrigger.MANUAL })).done);
    await mutateData(url);
    expect(await tableDigests(url, AFTER_RESTORE)).not.toEqual(before);

    const restored: unknown[] = [];
    const events = server.pubsub.subscribe(BACKUP_EVENTS.RESTORED, undefined, TEST_QUEUE);
    const next = events.next().then((e) => restored.push(e.value));
    const result = await backups().restore(adminMeta(), backup.id, backup.id);
    expect(result).toMatchObject({ ok: true, rolledBack: false, error: null });
    expect(result.safetyBackup?.trigger).toBe(BackupTrigger.PRE_RESTORE);
    expect(await tableDigests(url, AFTER_RESTORE)).toEqual(before);

    // The backup's audit entry (+1), the restore's (+1) and the end of its maintenance lease (+1)
    // follow the restored chain, which verifies.
    const audit = await withClient(url, (c) => c.query<{ n: string; action: string }>(`select count(*)::text as n, max(action) filter (where seq = (select max(seq) from audit_log)) as action from audit_log`));
    expect(Number(audit.rows[0]!.n)).toBe(Number(auditBefore.rows[0]!.n) + 3);
    const lastTwo = await withClient(url, (c) => c.query<{ action: string }>(`select action from audit_log where action in ('BACKUP_RESTORE', 'MAINTENANCE_EXIT') order by seq desc limit 2`));
    expect(lastTwo.rows.map((r) => r.action)).toEqual(['MAINTENANCE_EXIT', 'BACKUP_RESTORE']);
    expect(await server.services.audit.verifyChain()).toMatchObject({ ok: true });

    await next;
    expect(restored).toEqual([{ id: backup.id, by: 'backup-admin@example.com' }]);
    await events.return?.();

    // The metadata of every backup survives the restore, including the safety backup.
    const list = await backups().list(server.orm.em.fork(), { first: 100 });
    const ids = list.edges.map((e) => e.node.id);
    expect(ids).toEqual(expect.arrayContaining([backup.id, result.safetyBackup!.id]));
    expect(list.edges.find((e) => e.node.id === backup.id)?.node.status).toBe(BackupStatus.SUCCEEDED);

    // The ORM's own pool reconnects after its connections were ended.
    expect(await server.orm.em.fork().getConnection().execute('select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('refuses to restore unless confirm repeats the id', async () => {
    const backup = await finished((await backups().begin(adminMeta(), { label: null, trigger: BackupTrigger.MANUAL })).done);
    await expect(backups().restore(adminMeta(), backup.id, 'yes')).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'confirm' },
    });
  });

  it('a backup with one corrupted byte fails verification on its checksum and is refused by restore, untouched', async () => {
    const backup = await finished((await backups().begin(adminMeta(), { label: 'to corrupt', trigger: BackupTrigger.MANUAL })).done);
    const file = path.join(server.config.backups.dir, `${backup.id}.dump`);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(file, bytes);

    const verification = await backups().verify(adminMeta(), backup.id);
    expect(verification.ok).toBe(false);
    expect(verification.checks.find((c) => c.name === 'checksum')).toMatchObject({ ok: false });
    expect(verification.checks.find((c) => c.name === 'size')).toMatchObject({ ok: true });

    await mutateData(server.database.url);
    const before = await tableDigests(server.database.url);
    const countBefore = (await backups().list(server.orm.em.fork(), { first: 100 })).totalCount;
    await expect(backups().restore(adminMeta(), backup.id, backup.id)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', checks: expect.arrayContaining([expect.objectContaining({ name: 'checksum', ok: false })]) },
    });
    expect(await tableDigests(server.database.url)).toEqual(before);
    expect((await backups().list(server.orm.em.fork(), { first: 100 })).totalCount).toBe(countBefore);
  });

  it('refuses a truncated backup file', async () => {
    const backup = await finished((await backups().begin(adminMeta(), { label: 'to truncate', trigger: BackupTrigger.MANUAL })).done);
    const file = path.join(server.config.backups.dir, `${backup.id}.dump`);
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const before = await tableDigests(server.database.url);
    await expect(backups().restore(adminMeta(), backup.id, backup.id)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', checks: expect.arrayContaining([expect.objectContaining({ name: 'size', ok: false })]) },
    });
    expect(await tableDigests(server.database.url)).toEqual(before);
  });

  it('refuses a backup of another database', async () => {
    const other = await startTestServer();
    try {
      const foreign = await finished((await other.services.backups.begin(systemMeta('test'), { label: 'foreign', trigger: BackupTrigger.MANUAL })).done);
      for (const suffix of ['.dump', '.manifest.json']) {
        copyFileSync(path.join(other.config.backups.dir, foreign.id + suffix), path.join(server.config.backups.dir, foreign.id + suffix));
      }
    expect(await backups().rescan()).toBe(1);
      const before = await tableDigests(server.database.url);
      await expect(backups().restore(adminMeta(), foreign.id, foreign.id)).rejects.toMatchObject({
        extensions: { code: 'BAD_USER_INPUT', checks: expect.arrayContaining([expect.objectContaining({ name: 'database', ok: false })]) },
      });
      expect(await tableDigests(server.database.url)).toEqual(before);
    } finally {
      await other.close();
    }
  });

  it('a restore that breaks half way is rolled back by PostgreSQL: the database is as it was, and says so', async () => {
    const url = server.database.url;
    // A CHECK whose function changed after the row was written: pg_dump dumps it faithfully, and
    // restoring that row then fails in the middle of loading the data.
    await withClient(url, async (c) => {
      await c.query(`create function trap_ok(v int) returns boolean language sql immutable as 'select v < 10'`);
      await c.query('create table trap (v int check (trap_ok(v)))');
      await c.query('insert into trap values (5)');
      await c.query(`create or replace function trap_ok(v int) returns boolean language sql immutable as 'select v < 0'`);
    });
    const broken = await finished((await backups().begin(adminMeta(), { label: 'breaks', trigger: BackupTrigger.MANUAL })).done);
    await withClient(url, async (c) => {
      await c.query('drop table trap');
      await c.query('drop function trap_ok(int)');
    });
    await mutateData(url);
    const before = await tableDigests(url, AFTER_RESTORE);

    const result = await backups().restore(adminMeta(), broken.id, broken.id);
    expect(result).toMatchObject({ ok: false, rolledBack: true, databaseState: 'UNCHANGED', error: expect.stringContaining('trap') });
    expect(await tableDigests(url, AFTER_RESTORE)).toEqual(before);
    const trap = await withClient(url, (c) => c.query(`select 1 from pg_class where relname = 'trap'`));
    expect(trap.rows).toEqual([]);
    // The restore's outcome, then the end of its maintenance lease.
    const last = await withClient(url, (c) => c.query(`select action, outcome from audit_log where action in ('BACKUP_RESTORE', 'MAINTENANCE_EXIT') order by seq desc limit 2`));
    expect(last.rows).toEqual([
      { action: 'MAINTENANCE_EXIT', outcome: 'SUCCESS' },
      { action: 'BACKUP_RESTORE', outcome: 'FAILED' },
    ]);
    expect(await server.services.audit.verifyChain()).toMatchObject({ ok: true });
  });

  it('two instances with the schedule due at once produce one backup', async () => {
    const second = await startTestServer({ database: server.database, env: { VIGIL_BACKUP_DIR: server.config.backups.dir } });
    try {
      const slot = new Date('2026-11-23T01:00:00Z');
      const results = await Promise.all([
        backups().runScheduledBackup(slot, systemMeta('scheduledBackup')),
        second.services.backups.runScheduledBackup(slot, systemMeta('scheduledBackup')),
      ]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      // Run again later for the same slot (e.g. a slow instance): still one.
      expect(await second.services.backups.runScheduledBackup(slot, systemMeta('scheduledBackup'))).toBeNull();
      const rows = await withClient(server.database.url, (c) => c.query(`select status from backup where scheduled_for = $1`, [slot]));
      expect(rows.rows).toEqual([{ status: 'SUCCEEDED' }]);
    } finally {
      await second.close();
    }
  });
});
