import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Client } from 'pg';
import type { Config } from '../../config';
import type { RequestMeta } from '../../context';
import { Backup } from '../../entities/backup.entity';
import { BackupVerification, type BackupCheck } from '../../entities/backup-verification.entity';
import { BadUserInputError, ConflictError, NotFoundError, ServiceUnavailableError } from '../../errors';
import type { EntityManager, MikroORM } from '../../infra/db';
import type { Logger } from '../../infra/logger';
import type { QueueLimit, VigilPubSub } from '../../infra/pubsub';
import { BackupStatus, BackupTrigger, BackupVerificationKind } from '../../schema/backup.enums';
import { decodeCursor, pageSize, toPage, type Page } from '../../schema/connection';
import type { AuditEntryInput } from '../audit/audit.service';
import { BackupScheduler } from './backup-scheduler';
import { BACKUP_LOCKS, openDedicatedConnection, quoteIdent, tryLock, type HeldLock } from './backup-connection';
import { backupFiles, readManifest, writeManifest, type BackupManifest } from './backup-manifest';
import { findPgTools, libpqEnv, runTool, startTool, withDatabase, type BackupToolStatus, type PgTools } from './pg-tools';
import { isUuid } from '../../infra/ids';

/** Pub/sub topics of the backups area; payloads are plain JSON. */
export const BACKUP_EVENTS = {
  /** `publish(PROGRESS, backupId, BackupProgress)` */
  PROGRESS: 'BACKUP_PROGRESS',
  /** `{ id, by }` after a successful restore; `by` is the actor's email or `system`. */
  RESTORED: 'BACKUP_RESTORED',
  /** `{ id, kind: 'BACKUP' | 'DRILL' | 'RESTORE', trigger, error }` when a backup, drill or restore fails. */
  FAILED: 'BACKUP_FAILED',
  /** `{ lastSuccessfulAt, maxAgeHours }` when no backup succeeded within `VIGIL_BACKUP_MAX_AGE_HOURS`. */
  STALE: 'BACKUP_STALE',
} as const;

/** The stages a backup goes through, as `backupProgress` reports them. */
export type BackupPhase = 'STARTING' | 'SNAPSHOT' | 'DUMPING' | 'FINALIZING' | 'DONE' | 'FAILED';

/** One `backupProgress` event. */
export interface BackupProgressEvent {
  id: string;
  phase: BackupPhase;
  bytesWritten: number;
  status: BackupStatus;
  error: string | null;
}

/** What `restoreBackup` reports. */
export interface RestoreOutcome {
  ok: boolean;
  backup: Backup;
  safetyBackup: Backup | null;
  /** True when the restore failed and the safety backup was put back. */
  rolledBack: boolean;
  error: string | null;
  finishedAt: Date;
}

/** The audit trail, as this area writes to it (implemented by `AuditService`). */
export interface AuditRecorder {
  record(em: EntityManager, meta: RequestMeta, entry: AuditEntryInput): Promise<void>;
}

export interface BackupServiceDeps {
  config: Config;
  orm: MikroORM;
  pubsub: VigilPubSub;
  logger: Logger;
  audit: AuditRecorder;
}

/** Tables whose rows are the backup metadata itself: not in the archive, rebuilt after a restore. */
const METADATA_TABLES = ['public.backup', 'public.backup_verification'];
const PROGRESS_INTERVAL_MS = 250;
const PROGRESS_RECHECK_MS = 2_000;
const RESTORE_LOCK_TIMEOUT_MS = 30_000;

/**
 * Backups of the whole database with PostgreSQL's own pg_dump (custom format, compressed, one
 * snapshot), verified by checksum and trial restore, restored behind a safety backup, expired by
 * retention. One backup or restore at a time across all instances (a session advisory lock).
 */
export class BackupService {
  private tools: Promise<{ tools: PgTools } | { error: string }> | null = null;
  private serverMajor: number | null = null;
  private readonly running = new Set<Promise<unknown>>();
  private readonly children = new Set<{ kill(signal?: NodeJS.Signals): boolean }>();
  private stopping = false;
  private readonly startedAt = new Date();
  private readonly scheduler: BackupScheduler;

  constructor(private readonly deps: BackupServiceDeps) {
    const { schedule, drillSchedule } = deps.config.backups;
    this.scheduler = new BackupScheduler(this, { backup: schedule, drill: drillSchedule }, deps.logger);
  }

  /**
   * Starts the backup, restore-drill and freshness schedules, and lists any archive in the backup
   * directory the database does not know yet (a fresh database next to existing backups).
   */
  start(): void {
    this.stopping = false;
    this.scheduler.start();
    this.track(this.rescan()).catch((err: unknown) => this.log.warn({ err }, 'could not scan the backup directory'));
  }

  /** The backup directory (shared storage when several instances run). */
  get directory(): string {
    return this.deps.config.backups.dir;
  }

  private get databaseUrl(): string {
    return this.deps.orm.config.get('clientUrl') as string;
  }

  private get log(): Logger {
    return this.deps.logger;
  }

  // ---- tools -------------------------------------------------------------------------------

  private async loadTools(): Promise<{ tools: PgTools } | { error: string }> {
    this.tools ??= (async () => {
      const [row] = await this.deps.orm.em.getConnection().execute<{ server_version_num: string }[]>('show server_version_num');
      this.serverMajor = Math.floor(Number(row?.server_version_num) / 10_000);
      return findPgTools(this.serverMajor, this.deps.config.backups.pgBinDir, this.deps.config.backups.searchPath);
    })().catch((error: unknown) => {
      this.tools = null;
      return { error: `cannot read the server version: ${message(error)}` };
    });
    return this.tools;
  }

  /** pg_dump and pg_restore matching the server, or SERVICE_UNAVAILABLE saying what to install. */
  private async requireTools(): Promise<PgTools> {
    const found = await this.loadTools();
    if ('error' in found) throw new ServiceUnavailableError(`Backups are unavailable: ${found.error}`);
    return found.tools;
  }

  /** Whether backups can run on this instance (for the health report). */
  async backupTool(): Promise<BackupToolStatus> {
    const found = await this.loadTools();
    if ('error' in found) {
      return { available: false, pgDump: null, pgRestore: null, version: null, serverMajor: this.serverMajor, detail: found.error };
    }
    const { tools } = found;
    return {
      available: true,
      pgDump: tools.pgDump,
      pgRestore: tools.pgRestore,
      version: tools.version,
      serverMajor: this.serverMajor,
      detail: `${tools.version} at ${tools.pgDump}`,
    };
  }

  // ---- reads -------------------------------------------------------------------------------

  /** When the newest successful backup finished; null if none has. */
  async lastSuccessfulBackupAt(): Promise<Date | null> {
    const em = this.deps.orm.em.fork();
    const [last] = await em.find(Backup, { status: BackupStatus.SUCCEEDED }, { orderBy: { finishedAt: 'desc' }, limit: 1 });
    return last?.finishedAt ?? null;
  }

  /** Backups newest first (`startedAt` descending, ties by id), as a Relay page. */
  async list(em: EntityManager, first: number | null | undefined, after: string | null | undefined): Promise<Page<Backup>> {
    const size = pageSize(first);
    let where = {};
    if (after) {
      const [at, id] = decodeCursor(after, 2);
      const time = new Date(String(at));
      if (Number.isNaN(time.getTime())) throw new BadUserInputError('after is not a cursor this list gave out', 'after');
      where = { $or: [{ startedAt: { $lt: time } }, { startedAt: time, id: { $lt: String(id) } }] };
    }
    const [rows, totalCount] = await Promise.all([
      em.find(Backup, where, { orderBy: { startedAt: 'desc', id: 'desc' }, limit: size + 1 }),
      em.count(Backup),
    ]);
    return toPage(rows, size, (b) => [b.startedAt.toISOString(), b.id], totalCount);
  }

  async get(em: EntityManager, id: string): Promise<Backup | null> {
    if (!isUuid(id)) return null;
    return em.findOne(Backup, { id });
  }

  /** Verification evidence of several backups, newest first per backup (one query). */
  async verificationsOf(em: EntityManager, backupIds: readonly string[]): Promise<Map<string, BackupVerification[]>> {
    const rows = backupIds.length
      ? await em.find(BackupVerification, { backupId: { $in: [...backupIds] } }, { orderBy: { at: 'desc', id: 'desc' } })
      : [];
    const byBackup = new Map<string, BackupVerification[]>(backupIds.map((id) => [id, []]));
    for (const row of rows) byBackup.get(row.backupId)?.push(row);
    return byBackup;
  }

  // ---- create ------------------------------------------------------------------------------

  /**
   * Starts a backup and returns at once with status RUNNING; `backupProgress(id)` follows it.
   * @throws CONFLICT when another backup or restore runs (on any instance), SERVICE_UNAVAILABLE
   * when no matching pg_dump is installed.
   */
  async create(meta: RequestMeta, options: { label?: string | null; trigger?: BackupTrigger } = {}): Promise<Backup> {
    const { backup, done } = await this.begin(meta, { label: options.label ?? null, trigger: options.trigger ?? BackupTrigger.MANUAL });
    // The outcome reaches the client through backupProgress and the row; runBackup records failures itself.
    done.catch((err: unknown) => this.log.error({ err, backupId: backup.id }, 'backup ended with an unexpected error'));
    return backup;
  }

  /** Starts a backup and also hands back the promise of its end (for the CLI and the schedule). */
  async begin(
    meta: RequestMeta,
    options: { label: string | null; trigger: BackupTrigger; scheduledFor?: Date },
  ): Promise<{ backup: Backup; done: Promise<Backup> }> {
    const label = options.label?.trim() || null;
    if (label && label.length > 200) throw new BadUserInputError('label must be at most 200 characters', 'label');
    const tools = await this.requireTools();
    const lock = await tryLock(this.databaseUrl, BACKUP_LOCKS.backup);
    if (!lock) throw new ConflictError('Another backup or restore is running; try again when it has finished');
    let backup: Backup;
    try {
      backup = await this.insertBackup(meta, lock, { ...options, label });
    } catch (error) {
      await lock.release();
      throw error;
    }
    const done = this.track(this.runBackup(tools, lock.client, backup).finally(() => lock.release()));
    return { backup, done };
  }

  private async insertBackup(
    meta: RequestMeta,
    lock: HeldLock,
    options: { label: string | null; trigger: BackupTrigger; scheduledFor?: Date },
  ): Promise<Backup> {
    // Holding the lock means no backup runs anywhere: RUNNING rows are left over from a crash.
    await lock.client.query(
      `update backup set status = 'FAILED', finished_at = now(), error = 'interrupted: the instance running it stopped'
       where status = 'RUNNING'`,
    );
    const em = this.deps.orm.em.fork();
    const backup = em.create(Backup, {
      label: options.label,
      trigger: options.trigger,
      scheduledFor: options.scheduledFor ?? null,
      createdById: meta.actor?.id ?? null,
    });
    await em.transactional(async (tx) => {
      tx.persist(backup);
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'BACKUP_CREATE',
        resourceType: 'Backup',
        resourceId: backup.id,
        changes: { after: { label: backup.label, trigger: backup.trigger } },
      });
    });
    return backup;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    const tracked = promise.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
    return tracked;
  }

  private publishProgress(event: BackupProgressEvent): void {
    this.deps.pubsub.publish(BACKUP_EVENTS.PROGRESS, event.id, event);
  }

  private publish(topic: string, payload: Record<string, unknown>): void {
    this.deps.pubsub.publish(topic, payload);
  }

  /**
   * Dumps the database from one exported snapshot: row counts and schema version are read in the
   * same snapshot pg_dump uses, so the manifest describes exactly what the archive holds. The
   * archive is streamed to `<id>.dump.partial` while hashed and counted, then renamed.
   */
  private async runBackup(tools: PgTools, client: Client, backup: Backup): Promise<Backup> {
    const dir = this.directory;
    const files = backupFiles(dir, backup.id);
    let bytes = 0;
    const progress = (phase: BackupPhase) =>
      this.publishProgress({ id: backup.id, phase, bytesWritten: bytes, status: BackupStatus.RUNNING, error: null });
    try {
      progress('STARTING');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await client.query('begin isolation level repeatable read read only');
      let inTransaction = true;
      try {
        const { rows: [snapshot] } = await client.query<{ id: string }>('select pg_export_snapshot() as id');
        progress('SNAPSHOT');
        // Counted on the exporting transaction (same snapshot) while pg_dump streams.
        const described = (async () => ({
          server: await serverIdentity(client),
          rowCounts: await countRows(client, METADATA_TABLES),
          schemaVersion: await currentSchemaVersion(client),
        }))();
        described.catch(() => undefined);

        progress('DUMPING');
        const hash = createHash('sha256');
        let lastPublished = 0;
        const meter = new Transform({
          transform: (chunk: Buffer, _enc, callback) => {
            hash.update(chunk);
            bytes += chunk.length;
            const now = Date.now();
            if (now - lastPublished >= PROGRESS_INTERVAL_MS) {
              lastPublished = now;
              progress('DUMPING');
            }
            callback(null, chunk);
          },
        });
        const { child, done } = startTool(
          tools.pgDump,
          [
            '--format=custom',
            '--compress=6',
            `--snapshot=${snapshot!.id}`,
            '--no-password',
            ...METADATA_TABLES.map((t) => `--exclude-table-data=${t}`),
          ],
          libpqEnv(this.databaseUrl, this.deps.config.backups.searchPath),
        );
        child.stdin.end();
        this.children.add(child);
        try {
          await Promise.all([pipeline(child.stdout, meter, createWriteStream(files.partial, { mode: 0o600, flush: true })), done]);
        } finally {
          this.children.delete(child);
        }
        const { server, rowCounts, schemaVersion } = await described;
        await client.query('commit');
        inTransaction = false;

        progress('FINALIZING');
        const written = await stat(files.partial);
        if (written.size !== bytes) throw new Error(`wrote ${bytes} bytes but the file has ${written.size}`);
        await rename(files.partial, files.archive);
        const finishedAt = new Date();
        const manifest: BackupManifest = {
          formatVersion: 1,
          id: backup.id,
          label: backup.label ?? null,
          trigger: backup.trigger,
          startedAt: backup.startedAt.toISOString(),
          finishedAt: finishedAt.toISOString(),
          file: path.basename(files.archive),
          format: 'pg_dump-custom',
          sizeBytes: bytes,
          sha256: hash.digest('hex'),
          server: { version: server.version, versionNum: server.versionNum },
          pgDumpVersion: tools.version,
          database: { name: server.database, systemIdentifier: server.systemIdentifier },
          schemaVersion,
          rowCounts,
          excludedTableData: METADATA_TABLES,
        };
        await writeManifest(dir, manifest);
        await client.query(
          `update backup set status = 'SUCCEEDED', finished_at = $2, size_bytes = $3, sha256 = $4, manifest = $5, error = null
           where id = $1`,
          [backup.id, finishedAt, bytes, manifest.sha256, JSON.stringify(manifest)],
        );
        Object.assign(backup, { status: BackupStatus.SUCCEEDED, finishedAt, sizeBytes: bytes, sha256: manifest.sha256, manifest });
      } finally {
        if (inTransaction) await client.query('rollback').catch(() => undefined);
      }
      this.publishProgress({ id: backup.id, phase: 'DONE', bytesWritten: bytes, status: BackupStatus.SUCCEEDED, error: null });
      this.log.info({ backupId: backup.id, bytes, trigger: backup.trigger }, 'backup succeeded');
      if (backup.trigger !== BackupTrigger.PRE_RESTORE) {
        await this.applyRetention(client).catch((err: unknown) => this.log.error({ err }, 'backup retention failed'));
      }
      return backup;
    } catch (error) {
      const reason = this.stopping ? 'interrupted: the instance shut down' : message(error);
      await unlink(files.partial).catch(() => undefined);
      await client
        .query(`update backup set status = 'FAILED', finished_at = now(), error = $2 where id = $1`, [backup.id, reason])
        .catch((err: unknown) => this.log.error({ err }, 'could not mark a backup FAILED'));
      Object.assign(backup, { status: BackupStatus.FAILED, finishedAt: new Date(), error: reason });
      this.publishProgress({ id: backup.id, phase: 'FAILED', bytesWritten: bytes, status: BackupStatus.FAILED, error: reason });
      this.publish(BACKUP_EVENTS.FAILED, { id: backup.id, kind: 'BACKUP', trigger: backup.trigger, error: reason });
      this.log.error({ backupId: backup.id, err: error }, 'backup failed');
      return backup;
    }
  }

  // ---- progress ----------------------------------------------------------------------------

  /**
   * Progress of one backup: the current state first, then every change until it ends
   * (SUCCEEDED or FAILED), after which the stream completes. A consumer more than
   * `limit.maxQueue` events behind is cut off.
   */
  async *progress(id: string, limit: QueueLimit): AsyncGenerator<BackupProgressEvent> {
    const em = this.deps.orm.em;
    if (!isUuid(id)) throw new NotFoundError('Backup', id);
    const iterator = this.deps.pubsub.subscribe<BackupProgressEvent>(BACKUP_EVENTS.PROGRESS, id, limit);
    try {
      const stateOf = async (): Promise<BackupProgressEvent> => {
        const backup = await em.fork().findOne(Backup, { id });
        if (!backup) throw new NotFoundError('Backup', id);
        return {
          id,
          phase: backup.status === BackupStatus.RUNNING ? 'STARTING' : backup.status === BackupStatus.SUCCEEDED ? 'DONE' : 'FAILED',
          bytesWritten: backup.sizeBytes ?? 0,
          status: backup.status,
          error: backup.error ?? null,
        };
      };
      const current = await stateOf();
      yield current;
      if (current.status !== BackupStatus.RUNNING) return;
      let pending = iterator.next();
      for (;;) {
        // A Redis subscription starts asynchronously, so the final event may slip past it: the row
        // is re-read now and then, and its end state closes the stream either way.
        let timer: NodeJS.Timeout | undefined;
        const tick = new Promise<'tick'>((resolve) => {
          timer = setTimeout(() => resolve('tick'), PROGRESS_RECHECK_MS);
        });
        const next = await Promise.race([pending, tick]).finally(() => clearTimeout(timer));
        if (next === 'tick') {
          const state = await stateOf();
          if (state.status !== BackupStatus.RUNNING) {
            yield state;
            return;
          }
          continue;
        }
        if (next.done) return;
        yield next.value;
        if (next.value.status !== BackupStatus.RUNNING) return;
        pending = iterator.next();
      }
    } finally {
      await iterator.return?.();
    }
  }

  // ---- verify ------------------------------------------------------------------------------

  /**
   * Checks a backup: manifest, size and SHA-256 against the manifest, the archive's table of
   * contents, then a trial restore into a scratch database whose row counts must equal the
   * manifest's. The scratch database is always dropped. The result is kept as evidence.
   */
  async verify(
    meta: RequestMeta,
    id: string,
    options: { kind?: BackupVerificationKind; scheduledFor?: Date } = {},
  ): Promise<BackupVerification> {
    const tools = await this.requireTools();
    const em = this.deps.orm.em.fork();
    const backup = await this.get(em, id);
    if (!backup) throw new NotFoundError('Backup', id);
    if (backup.status !== BackupStatus.SUCCEEDED) throw new ConflictError(`Backup ${id} is ${backup.status}; only a SUCCEEDED backup can be verified`);

    const { checks, manifest } = await this.fileChecks(tools, backup);
    if (manifest && checks.every((c) => c.ok)) checks.push(...(await this.trialRestore(tools, manifest)));
    else checks.push({ name: 'trialRestore', ok: false, detail: 'skipped: the file checks failed' });

    const verification = em.create(BackupVerification, {
      backupId: backup.id,
      kind: options.kind ?? BackupVerificationKind.VERIFY,
      ok: checks.every((c) => c.ok),
      checks,
      at: new Date(),
      scheduledFor: options.scheduledFor ?? null,
      createdById: meta.actor?.id ?? null,
    });
    await em.transactional(async (tx) => {
      tx.persist(verification);
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'BACKUP_VERIFY',
        resourceType: 'Backup',
        resourceId: backup.id,
        outcome: verification.ok ? 'SUCCESS' : 'FAILED',
        changes: { after: { kind: verification.kind, ok: verification.ok, failed: checks.filter((c) => !c.ok).map((c) => c.name) } },
      });
    });
    return verification;
  }

  /** Checks that need only the files: manifest, size, checksum, origin, archive readability. */
  private async fileChecks(tools: PgTools, backup: Backup): Promise<{ checks: BackupCheck[]; manifest: BackupManifest | null }> {
    const files = backupFiles(this.directory, backup.id);
    const checks: BackupCheck[] = [];
    const manifest = await readManifest(files.manifest);
    if (!manifest || manifest.id !== backup.id) {
      checks.push({ name: 'manifest', ok: false, detail: `no valid manifest at ${path.basename(files.manifest)}` });
      return { checks, manifest: null };
    }
    if (backup.sha256 && backup.sha256 !== manifest.sha256) {
      // Archive and manifest replaced together would pass the checksum; the database remembers.
      checks.push({ name: 'manifest', ok: false, detail: `the manifest's sha256 ${manifest.sha256} differs from the recorded ${backup.sha256}` });
      return { checks, manifest: null };
    }
    checks.push({ name: 'manifest', ok: true, detail: `${manifest.file}, schema ${manifest.schemaVersion ?? 'none'}` });

    let size: number | null = null;
    try {
      size = (await stat(files.archive)).size;
    } catch {
      checks.push({ name: 'size', ok: false, detail: `the archive ${manifest.file} is missing` });
      return { checks, manifest };
    }
    checks.push({
      name: 'size',
      ok: size === manifest.sizeBytes,
      detail: size === manifest.sizeBytes ? `${size} bytes` : `${size} bytes on disk, ${manifest.sizeBytes} in the manifest (truncated or altered)`,
    });
    const sha256 = await fileSha256(files.archive);
    checks.push({
      name: 'checksum',
      ok: sha256 === manifest.sha256,
      detail: sha256 === manifest.sha256 ? `sha256 ${sha256}` : `sha256 ${sha256} does not match the manifest's ${manifest.sha256}`,
    });

    const client = await openDedicatedConnection(this.databaseUrl);
    try {
      const here = await serverIdentity(client);
      const sameSystem =
        !here.systemIdentifier || !manifest.database.systemIdentifier || here.systemIdentifier === manifest.database.systemIdentifier;
      const ok = sameSystem && here.database === manifest.database.name;
      checks.push({
        name: 'database',
        ok,
        detail: ok
          ? `taken from ${manifest.database.name}`
          : `taken from database ${manifest.database.name} (system ${manifest.database.systemIdentifier ?? '?'}), not this one (${here.database}, system ${here.systemIdentifier ?? '?'})`,
      });
    } finally {
      await client.end().catch(() => undefined);
    }

    try {
      const toc = await runTool(tools.pgRestore, ['--list', files.archive], libpqEnv(this.databaseUrl, this.deps.config.backups.searchPath));
      const dbname = /^;\s+dbname:\s+(.+)$/m.exec(toc)?.[1]?.trim();
      const entries = toc.split('\n').filter((l) => l && !l.startsWith(';')).length;
      const ok = dbname === manifest.database.name;
      checks.push({
        name: 'archive',
        ok,
        detail: ok ? `${entries} entries` : `the archive was dumped from ${dbname ?? 'an unknown database'}, the manifest says ${manifest.database.name}`,
      });
    } catch (error) {
      checks.push({ name: 'archive', ok: false, detail: `pg_restore cannot read it: ${message(error)}` });
    }
    return { checks, manifest };
  }

  private async trialRestore(tools: PgTools, manifest: BackupManifest): Promise<BackupCheck[]> {
    const scratch = `vigil_verify_${randomBytes(6).toString('hex')}`;
    const admin = await openDedicatedConnection(this.databaseUrl);
    const checks: BackupCheck[] = [];
    try {
      await admin.query(`create database ${quoteIdent(scratch)} template template0`);
      const started = Date.now();
      try {
        await runTool(
          tools.pgRestore,
          ['--exit-on-error', '--no-owner', '--no-acl', '--no-password', `--dbname=${scratch}`, backupFiles(this.directory, manifest.id).archive],
          libpqEnv(withDatabase(this.databaseUrl, scratch), this.deps.config.backups.searchPath),
        );
        checks.push({ name: 'trialRestore', ok: true, detail: `restored into a scratch database in ${Date.now() - started} ms` });
      } catch (error) {
        checks.push({ name: 'trialRestore', ok: false, detail: message(error) });
        return checks;
      }
      const restored = await openDedicatedConnection(withDatabase(this.databaseUrl, scratch));
      try {
        const counts = await countRows(restored, METADATA_TABLES);
        const tables = new Set([...Object.keys(counts), ...Object.keys(manifest.rowCounts)]);
        const differences = [...tables]
          .sort()
          .filter((t) => counts[t] !== manifest.rowCounts[t])
          .map((t) => `${t}: ${counts[t] ?? 'missing'} restored, ${manifest.rowCounts[t] ?? 'absent'} in the manifest`);
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        checks.push({
          name: 'rowCounts',
          ok: differences.length === 0,
          detail: differences.length ? differences.slice(0, 10).join('; ') : `${tables.size} tables, ${total} rows, as in the manifest`,
        });
      } finally {
        await restored.end().catch(() => undefined);
      }
      return checks;
    } finally {
      await admin
        .query(`drop database if exists ${quoteIdent(scratch)} with (force)`)
        .catch((err: unknown) => this.log.error({ err, database: scratch }, 'could not drop the scratch database'));
      await admin.end().catch(() => undefined);
    }
  }

  // ---- restore -----------------------------------------------------------------------------

  /**
   * Restores a backup into the live database. Refuses, without touching the database, a backup
   * whose file fails its checks (checksum, size, origin, schema version). Takes a PRE_RESTORE
   * safety backup first; if the restore fails the safety backup is put back and the failure
   * reported. The audit entry is written after the restore, so it lands on the restored chain.
   */
  async restore(meta: RequestMeta, id: string, confirm: string): Promise<RestoreOutcome> {
    if (confirm !== id) throw new BadUserInputError('confirm must repeat the id of the backup to restore', 'confirm');
    const tools = await this.requireTools();
    const em = this.deps.orm.em.fork();
    const backup = await this.get(em, id);
    if (!backup) throw new NotFoundError('Backup', id);
    if (backup.status !== BackupStatus.SUCCEEDED) throw new ConflictError(`Backup ${id} is ${backup.status}; only a SUCCEEDED backup can be restored`);

    const { checks, manifest } = await this.fileChecks(tools, backup);
    if (manifest) {
      const client = await openDedicatedConnection(this.databaseUrl);
      const current = await currentSchemaVersion(client).finally(() => client.end().catch(() => undefined));
      checks.push({
        name: 'schemaVersion',
        ok: manifest.schemaVersion === current,
        detail:
          manifest.schemaVersion === current
            ? `${current}`
            : `the backup is at schema ${manifest.schemaVersion ?? 'none'}, the database at ${current ?? 'none'}: restore it with the Vigil version that made it`,
      });
    }
    const failed = checks.filter((c) => !c.ok);
    if (!manifest || failed.length) {
      throw new BadUserInputError(`Backup ${id} cannot be restored: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`, 'id', {
        checks: failed,
      });
    }

    const lock = await tryLock(this.databaseUrl, BACKUP_LOCKS.backup);
    if (!lock) throw new ConflictError('Another backup or restore is running; try again when it has finished');
    const run = (async (): Promise<RestoreOutcome> => {
      try {
        const safety = await this.runBackup(
          tools,
          lock.client,
          await this.insertBackup(meta, lock, { label: `before restoring ${id}`, trigger: BackupTrigger.PRE_RESTORE }),
        );
        if (safety.status !== BackupStatus.SUCCEEDED) {
          throw new ServiceUnavailableError(`The safety backup failed (${safety.error ?? 'unknown error'}); nothing was restored`);
        }
        const metadata = await snapshotMetadata(lock.client);
        try {
          await this.pgRestoreLive(tools, lock.client, backupFiles(this.directory, id).archive);
          await this.writeBackMetadata(lock.client, metadata);
        } catch (error) {
          const reason = message(error);
          this.log.error({ err: error, backupId: id }, 'restore failed: putting the safety backup back');
          try {
            await this.pgRestoreLive(tools, lock.client, backupFiles(this.directory, safety.id).archive);
            await this.writeBackMetadata(lock.client, metadata);
          } catch (rollbackError) {
            this.log.fatal({ err: rollbackError, safetyBackupId: safety.id }, 'restoring the safety backup failed');
            this.publish(BACKUP_EVENTS.FAILED, { id, kind: 'RESTORE', trigger: backup.trigger, error: `${reason}; the safety backup could not be restored` });
            throw new Error(`restore failed (${reason}) and so did putting safety backup ${safety.id} back (${message(rollbackError)})`);
          }
          await this.deps.audit.record(this.deps.orm.em.fork(), meta, {
            action: 'BACKUP_RESTORE',
            outcome: 'FAILED',
            resourceType: 'Backup',
            resourceId: id,
            reason,
            changes: { after: { safetyBackupId: safety.id, rolledBack: true } },
          });
          this.publish(BACKUP_EVENTS.FAILED, { id, kind: 'RESTORE', trigger: backup.trigger, error: reason });
          return { ok: false, backup, safetyBackup: safety, rolledBack: true, error: reason, finishedAt: new Date() };
        }
        await this.deps.audit.record(this.deps.orm.em.fork(), meta, {
          action: 'BACKUP_RESTORE',
          resourceType: 'Backup',
          resourceId: id,
          changes: { after: { safetyBackupId: safety.id, backupStartedAt: manifest.startedAt, schemaVersion: manifest.schemaVersion } },
        });
        this.publish(BACKUP_EVENTS.RESTORED, { id, by: meta.actor?.email ?? 'system' });
        this.log.warn({ backupId: id, safetyBackupId: safety.id, by: meta.actor?.email ?? 'system' }, 'database restored from a backup');
        const refreshed = (await this.get(this.deps.orm.em.fork(), id)) ?? backup;
        return { ok: true, backup: refreshed, safetyBackup: safety, rolledBack: false, error: null, finishedAt: new Date() };
      } finally {
        await lock.release();
      }
    })();
    return this.track(run);
  }

  /**
   * pg_restore into the live database in one transaction (all or nothing). Other sessions are
   * terminated first so none holds a lock the restore waits on; pools (this instance's and other
   * instances') discard the dropped connections and reconnect.
   */
  private async pgRestoreLive(tools: PgTools, client: Client, archive: string): Promise<void> {
    await client.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid()
         and pid not in (select pid from pg_locks where locktype = 'advisory' and pid is not null)`,
    );
    await runTool(
      tools.pgRestore,
      ['--clean', '--if-exists', '--single-transaction', '--exit-on-error', '--no-password', `--dbname=${(await serverIdentity(client)).database}`, archive],
      libpqEnv(this.databaseUrl, this.deps.config.backups.searchPath, { PGOPTIONS: `-c lock_timeout=${RESTORE_LOCK_TIMEOUT_MS}` }),
    );
  }

  /** After a restore: the metadata as it was just before, plus any backup on disk it lacks. */
  private async writeBackMetadata(client: Client, metadata: { backups: string; verifications: string }): Promise<void> {
    await client.query('begin');
    try {
      await client.query('delete from backup_verification');
      await client.query('delete from backup');
      await client.query('insert into backup select * from json_populate_recordset(null::backup, $1::json)', [metadata.backups]);
      await client.query('insert into backup_verification select * from json_populate_recordset(null::backup_verification, $1::json)', [
        metadata.verifications,
      ]);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
    await this.importManifests(client);
  }

  /**
   * Adds a `backup` row for every manifest in the backup directory the table lacks (after a
   * restore, or when archives were copied in). Returns how many were added.
   */
  async rescan(): Promise<number> {
    const client = await openDedicatedConnection(this.databaseUrl);
    try {
      return await this.importManifests(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async importManifests(client: Client): Promise<number> {
    let names: string[];
    try {
      names = (await readdir(this.directory)).filter((n) => n.endsWith('.manifest.json'));
    } catch {
      return 0;
    }
    let added = 0;
    for (const name of names) {
      const manifest = await readManifest(path.join(this.directory, name));
      if (!manifest || !isUuid(manifest.id)) continue;
      const { rowCount } = await client.query(
        `insert into backup (id, label, status, trigger, started_at, finished_at, size_bytes, sha256, manifest)
         values ($1, $2, 'SUCCEEDED', $3, $4, $5, $6, $7, $8) on conflict (id) do nothing`,
        [manifest.id, manifest.label, manifest.trigger, manifest.startedAt, manifest.finishedAt, manifest.sizeBytes, manifest.sha256, JSON.stringify(manifest)],
      );
      added += rowCount ?? 0;
    }
    return added;
  }

  // ---- delete and retention ----------------------------------------------------------------

  /** Deletes a backup's files and row. @throws CONFLICT while it (or any backup or restore) runs. */
  async delete(meta: RequestMeta, id: string): Promise<boolean> {
    const em = this.deps.orm.em.fork();
    const backup = await this.get(em, id);
    if (!backup) throw new NotFoundError('Backup', id);
    if (backup.status === BackupStatus.RUNNING) throw new ConflictError(`Backup ${id} is still running`);
    const lock = await tryLock(this.databaseUrl, BACKUP_LOCKS.backup);
    if (!lock) throw new ConflictError('A backup or restore is running; try again when it has finished');
    try {
      await em.transactional(async (tx) => {
        await tx.nativeDelete(Backup, { id });
        await this.deps.audit.record(tx, meta, {
          action: 'BACKUP_DELETE',
          resourceType: 'Backup',
          resourceId: id,
          changes: { before: { label: backup.label, trigger: backup.trigger, startedAt: backup.startedAt.toISOString(), sha256: backup.sha256 } },
        });
      });
      await this.removeFiles(id);
      return true;
    } finally {
      await lock.release();
    }
  }

  private async removeFiles(id: string): Promise<void> {
    const files = backupFiles(this.directory, id);
    await Promise.all([files.archive, files.partial, files.manifest].map((f) => unlink(f).catch(() => undefined)));
  }

  /**
   * Expires backups: keeps the newest `VIGIL_BACKUP_KEEP_LAST` successful ones and every one
   * younger than `VIGIL_BACKUP_KEEP_DAYS` days (a backup survives if either rule keeps it; a rule
   * set to 0 is off; the newest successful backup always stays). Failed backups older than the
   * oldest kept one go too. Runs under the backup lock (`client` holds it). Returns deleted ids.
   */
  private async applyRetention(client: Client): Promise<string[]> {
    const { keepLast, keepDays } = this.deps.config.backups;
    if (!keepLast && !keepDays) return [];
    const { rows } = await client.query<{ id: string; status: BackupStatus; started_at: Date }>(
      `select id, status, started_at from backup where status <> 'RUNNING' order by started_at desc, id desc`,
    );
    const succeeded = rows.filter((r) => r.status === BackupStatus.SUCCEEDED);
    const cutoff = Date.now() - keepDays * 24 * 3600 * 1000;
    const kept = new Set<string>();
    succeeded.forEach((r, index) => {
      if (index === 0 || (keepLast && index < keepLast) || (keepDays && r.started_at.getTime() >= cutoff)) kept.add(r.id);
    });
    const oldestKept = succeeded.filter((r) => kept.has(r.id)).at(-1)?.started_at.getTime() ?? 0;
    const expired = rows.filter((r) =>
      r.status === BackupStatus.SUCCEEDED ? !kept.has(r.id) : r.started_at.getTime() < oldestKept,
    );
    if (!expired.length) return [];
    await client.query('delete from backup where id = any($1::uuid[])', [expired.map((r) => r.id)]);
    for (const r of expired) await this.removeFiles(r.id);
    this.log.info({ deleted: expired.map((r) => r.id) }, 'expired backups by retention');
    return expired.map((r) => r.id);
  }

  // ---- schedules ---------------------------------------------------------------------------

  /**
   * The scheduled backup of one schedule slot. However many instances run it for the same slot,
   * one backup results: the backup lock lets one in at a time, and `scheduled_for` is unique.
   * Returns the finished backup, or null when another instance has this slot.
   */
  async runScheduledBackup(slot: Date, meta: RequestMeta): Promise<Backup | null> {
    try {
      const { done } = await this.begin(meta, { label: `scheduled ${slot.toISOString()}`, trigger: BackupTrigger.SCHEDULED, scheduledFor: slot });
      return await done;
    } catch (error) {
      if (error instanceof ConflictError || error instanceof UniqueConstraintViolationException) return null;
      if (error instanceof ServiceUnavailableError) {
        this.publish(BACKUP_EVENTS.FAILED, { id: null, kind: 'BACKUP', trigger: BackupTrigger.SCHEDULED, error: error.message });
      }
      throw error;
    }
  }

  /**
   * A restore drill of one schedule slot: verifies the newest successful backup with a trial
   * restore and keeps the result as evidence; one instance per slot. Publishes BACKUP_FAILED when
   * the drill fails or there is nothing to drill. Returns null when another instance has the slot.
   */
  async runDrill(slot: Date, meta: RequestMeta): Promise<BackupVerification | null> {
    const lock = await tryLock(this.databaseUrl, BACKUP_LOCKS.drill);
    if (!lock) return null;
    try {
      const { rows: done } = await lock.client.query('select 1 from backup_verification where scheduled_for = $1', [slot]);
      if (done.length) return null;
      const { rows } = await lock.client.query<{ id: string }>(
        `select id from backup where status = 'SUCCEEDED' order by started_at desc, id desc limit 1`,
      );
      if (!rows[0]) {
        this.publish(BACKUP_EVENTS.FAILED, { id: null, kind: 'DRILL', trigger: null, error: 'there is no successful backup to drill' });
        return null;
      }
      let verification: BackupVerification;
      try {
        verification = await this.verify(meta, rows[0].id, { kind: BackupVerificationKind.DRILL, scheduledFor: slot });
      } catch (error) {
        this.publish(BACKUP_EVENTS.FAILED, { id: rows[0].id, kind: 'DRILL', trigger: null, error: message(error) });
        throw error;
      }
      if (!verification.ok) {
        const failed = verification.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? ''}`);
        this.publish(BACKUP_EVENTS.FAILED, { id: rows[0].id, kind: 'DRILL', trigger: null, error: failed.join('; ') });
      }
      return verification;
    } finally {
      await lock.release();
    }
  }

  /**
   * Publishes BACKUP_STALE when no backup succeeded within `VIGIL_BACKUP_MAX_AGE_HOURS` (counted
   * from this instance's start when there has never been one). Returns whether it was stale.
   */
  async checkFreshness(now = new Date()): Promise<boolean> {
    const lock = await tryLock(this.databaseUrl, BACKUP_LOCKS.staleness);
    if (!lock) return false;
    try {
      const last = await this.lastSuccessfulBackupAt();
      const maxAgeHours = this.deps.config.backups.maxAgeHours;
      const reference = last ?? this.startedAt;
      const stale = now.getTime() - reference.getTime() > maxAgeHours * 3600 * 1000;
      if (stale) this.publish(BACKUP_EVENTS.STALE, { lastSuccessfulAt: last?.toISOString() ?? null, maxAgeHours });
      return stale;
    } finally {
      await lock.release();
    }
  }

  /** Ends background work: running pg_dump / pg_restore processes are stopped, then awaited. */
  async stop(): Promise<void> {
    this.scheduler.stop();
    this.stopping = true;
    for (const child of this.children) child.kill('SIGTERM');
    await Promise.allSettled([...this.running]);
  }

  /** Waits for backups and restores this instance started (tests, the CLI). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}


async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

interface ServerIdentity {
  version: string;
  versionNum: number;
  database: string;
  systemIdentifier: string | null;
}

async function serverIdentity(client: Client): Promise<ServerIdentity> {
  const { rows: [row] } = await client.query<{ version: string; num: string; db: string }>(
    `select current_setting('server_version') as version, current_setting('server_version_num') as num, current_database() as db`,
  );
  let systemIdentifier: string | null = null;
  // Asked first rather than tried: a failed call would abort the snapshot transaction it runs in.
  // Without the privilege, the database name alone identifies the origin.
  const { rows: allowed } = await client.query<{ ok: boolean }>(`select has_function_privilege('pg_control_system()', 'execute') as ok`);
  if (allowed[0]?.ok) {
    const { rows } = await client.query<{ id: string }>('select system_identifier::text as id from pg_control_system()');
    systemIdentifier = rows[0]?.id ?? null;
  }
  return { version: row!.version, versionNum: Number(row!.num), database: row!.db, systemIdentifier };
}

/** Rows per user table (`schema.table`), skipping system schemas, partitions and `exclude`. */
async function countRows(client: Client, exclude: string[]): Promise<Record<string, number>> {
  const { rows: tables } = await client.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and not c.relispartition
       and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
     order by 1, 2`,
  );
  const counts: Record<string, number> = {};
  for (const t of tables) {
    const key = `${t.schema}.${t.name}`;
    if (exclude.includes(key)) continue;
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`);
    counts[key] = Number(rows[0]!.n);
  }
  return counts;
}

async function currentSchemaVersion(client: Client): Promise<string | null> {
  const { rows: exists } = await client.query(`select 1 from pg_class where relname = 'mikro_orm_migrations' and relkind = 'r'`);
  if (!exists.length) return null;
  const { rows } = await client.query<{ name: string }>('select name from mikro_orm_migrations order by id desc limit 1');
  return rows[0]?.name ?? null;
}

async function snapshotMetadata(client: Client): Promise<{ backups: string; verifications: string }> {
  const { rows: [row] } = await client.query<{ backups: unknown; verifications: unknown }>(
    `select (select coalesce(json_agg(b), '[]'::json) from backup b) as backups,
            (select coalesce(json_agg(v), '[]'::json) from backup_verification v) as verifications`,
  );
  return { backups: JSON.stringify(row!.backups), verifications: JSON.stringify(row!.verifications) };
}
