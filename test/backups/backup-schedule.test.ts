import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemMeta } from '../../src/context';
import { BackupStatus, BackupTrigger, BackupVerificationKind } from '../../src/schema/backup.enums';
import { BACKUP_EVENTS, type BackupProgressEvent } from '../../src/services/backups/backup.service';
import { slotOf } from '../../src/services/backups/backup-scheduler';
import { findPgTools } from '../../src/services/backups/pg-tools';
import { withClient } from '../helpers/postgres';
import { startTestServer, type TestServer } from '../helpers/server';
import { TEST_QUEUE } from '../helpers/pubsub';
import { adminMeta, finished, seedDemoData } from './backup-helpers';

/** Collects the next `count` events of a pub/sub topic. */
function collect(server: TestServer, topic: string, count = 1): Promise<unknown[]> {
  const iterator = server.pubsub.subscribe(topic, undefined, TEST_QUEUE);
  const events: unknown[] = [];
  return (async () => {
    while (events.length < count) {
      const next = await iterator.next();
      if (next.done) break;
      events.push(next.value);
    }
    await iterator.return?.();
    return events;
  })();
}

/** A directory with fake pg_dump / pg_restore of a version, which fail when asked to work. */
function fakeTools(major: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-fake-pg-'));
  for (const tool of ['pg_dump', 'pg_restore']) {
    const file = path.join(dir, tool);
    writeFileSync(
      file,
      `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "${tool} (PostgreSQL) ${major}.99"; exit 0; fi\necho "${tool}: error: simulated failure" >&2\nexit 1\n`,
    );
    chmodSync(file, 0o755);
  }
  return dir;
}

describe('backup progress, retention, drills and alerts', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_BACKUP_KEEP_LAST: '2', VIGIL_BACKUP_MAX_AGE_HOURS: '24' } });
    await seedDemoData(server.database.url, 5);
  });
  afterAll(() => server.close());
  const backups = () => server.services.backups;

  it('publishes each phase of a backup with growing byte counts, ending DONE / SUCCEEDED', async () => {
    const { backup, done } = await backups().begin(adminMeta(), { label: 'progress', trigger: BackupTrigger.MANUAL });
    const events: BackupProgressEvent[] = [];
    for await (const event of backups().progress(backup.id, TEST_QUEUE)) events.push(event);
    await finished(done);
    expect(events[0]).toMatchObject({ id: backup.id, status: BackupStatus.RUNNING });
    expect(events.at(-1)).toMatchObject({ phase: 'DONE', status: BackupStatus.SUCCEEDED, bytesWritten: backup.sizeBytes });
    expect(events.map((e) => e.phase)).toEqual(expect.arrayContaining(['DUMPING', 'FINALIZING', 'DONE']));
    const bytes = events.map((e) => e.bytesWritten);
    expect([...bytes].sort((a, b) => a - b)).toEqual(bytes);
  });

  it('keeps the newest VIGIL_BACKUP_KEEP_LAST backups and deletes older ones with their files', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push(await finished((await backups().begin(adminMeta(), { label: `keep ${i}`, trigger: BackupTrigger.MANUAL })).done));
    }
    const { rows } = await withClient(server.database.url, (c) =>
      c.query<{ id: string }>(`select id from backup where status = 'SUCCEEDED' order by started_at desc`),
    );
    expect(rows.map((r) => r.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(existsSync(path.join(server.config.backups.dir, `${made[0]!.id}.dump`))).toBe(false);
    expect(existsSync(path.join(server.config.backups.dir, `${made[0]!.id}.manifest.json`))).toBe(false);
    expect(existsSync(path.join(server.config.backups.dir, `${made[2]!.id}.dump`))).toBe(true);
  });

  it('a restore drill verifies the newest backup once per slot and keeps the evidence', async () => {
    const newest = await finished((await backups().begin(adminMeta(), { label: 'drilled', trigger: BackupTrigger.MANUAL })).done);
    const slot = slotOf('0 3 * * 0', new Date('2026-11-22T03:00:02.400Z'));
    expect(slot).toEqual(new Date('2026-11-22T03:00:00Z'));
    const [first, again] = [await backups().runDrill(slot, systemMeta('restoreDrill')), await backups().runDrill(slot, systemMeta('restoreDrill'))];
    expect(first).toMatchObject({ backupId: newest.id, kind: BackupVerificationKind.DRILL, ok: true });
    expect(again).toBeNull();
    const evidence = await backups().verificationsOf(server.orm.em.fork(), [newest.id]);
    expect(evidence.get(newest.id)).toEqual([expect.objectContaining({ kind: BackupVerificationKind.DRILL, ok: true })]);
  });

  it('publishes BACKUP_STALE when no backup succeeded within VIGIL_BACKUP_MAX_AGE_HOURS', async () => {
    const events = collect(server, BACKUP_EVENTS.STALE);
    expect(await backups().checkFreshness(new Date())).toBe(false);
    const later = new Date(Date.now() + 25 * 3600 * 1000);
    expect(await backups().checkFreshness(later)).toBe(true);
    const last = await backups().lastSuccessfulBackupAt();
    expect(await events).toEqual([{ lastSuccessfulAt: last!.toISOString(), maxAgeHours: 24 }]);
  });

  it('a failing pg_dump ends the backup FAILED with its error, removes the partial file and publishes BACKUP_FAILED', async () => {
    const fake = fakeTools(15);
    const broken = await startTestServer({ database: server.database, env: { PG_BIN_DIR: fake } });
    try {
      const failed = collect(broken, BACKUP_EVENTS.FAILED);
      const { backup, done } = await broken.services.backups.begin(adminMeta(), { label: 'doomed', trigger: BackupTrigger.MANUAL });
      const result = await done;
      expect(result.status).toBe(BackupStatus.FAILED);
      expect(result.error).toContain('simulated failure');
      expect(await failed).toEqual([{ id: backup.id, kind: 'BACKUP', trigger: 'MANUAL', error: result.error }]);
      expect(existsSync(path.join(broken.config.backups.dir, `${backup.id}.dump.partial`))).toBe(false);
      expect(existsSync(path.join(broken.config.backups.dir, `${backup.id}.dump`))).toBe(false);
    } finally {
      await broken.close();
      rmSync(fake, { recursive: true, force: true });
    }
  });
});

describe('the backup schedule on two instances', () => {
  it('fires on both, and each slot makes exactly one backup', async () => {
    const env = { VIGIL_BACKUP_SCHEDULE: '*/2 * * * * *', VIGIL_BACKUP_KEEP_LAST: '0' };
    const first = await startTestServer({ env });
    const second = await startTestServer({ database: first.database, env: { ...env, VIGIL_BACKUP_DIR: first.config.backups.dir } });
    let rows: { slot: Date; n: string; ok: string }[] = [];
    try {
      // Waits for events (two finished slots), not for a duration.
      for (let attempt = 0; attempt < 100 && rows.filter((r) => r.ok === '1').length < 2; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        rows = (
          await withClient(first.database.url, (c) =>
            c.query<{ slot: Date; n: string; ok: string }>(
              `select scheduled_for as slot, count(*)::text as n, count(*) filter (where status = 'SUCCEEDED')::text as ok
               from backup where trigger = 'SCHEDULED' group by 1 order by 1`,
            ),
          )
        ).rows;
      }
    } finally {
      await second.close();
      await first.close();
    }
    expect(rows.filter((r) => r.ok === '1').length).toBeGreaterThanOrEqual(2);
    expect(rows.every((r) => r.n === '1')).toBe(true);
    expect(rows.every((r) => r.slot.getUTCSeconds() % 2 === 0 && r.slot.getUTCMilliseconds() === 0)).toBe(true);
  });
});

describe('finding pg_dump', () => {
  it('takes the tools whose major version matches the server', async () => {
    const found = await findPgTools(15, undefined, '/usr/bin');
    expect(found).toMatchObject({ tools: { major: 15, pgDump: expect.stringMatching(/pg_dump$/), pgRestore: expect.stringMatching(/pg_restore$/) } });
  });

  it('says what to install when only other versions exist', async () => {
    const fake = fakeTools(15);
    try {
      const found = await findPgTools(16, fake, '/nonexistent');
      expect(found).toEqual({ error: expect.stringContaining('apt-get install postgresql-client-16') });
      expect('error' in found && found.error).toContain(`${fake}/pg_dump is version 15`);
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });
});
