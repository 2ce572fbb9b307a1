import type { VigilMetrics } from '../../infra/metrics';
import type { Config } from '../../config';
import type { RequestMeta } from '../../context';
import { ServiceUnavailableError } from '../../errors';
import type { EntityManager, MikroORM } from '../../infra/db';
import type { Logger } from '../../infra/logger';
import type { VigilPubSub } from '../../infra/pubsub';
import type { AuditEntryInput } from '../audit/audit.service';
import { BACKUP_EVENTS, message, type BackupProgressEvent } from './backup-events';
import { findPgTools, libpqEnv, runTool, startTool, type PgTools, type RunningTool } from './pg-tools';

/** The audit trail, as this area writes to it (implemented by `AuditService`). */
export interface AuditRecorder {
  record(em: EntityManager, meta: RequestMeta, entry: AuditEntryInput): Promise<void>;
}

/** The backup figures a SUPER_ADMIN may change while the gateway runs (see `BackupServiceDeps.policy`). */
export interface BackupPolicy {
  /** Cron expression (UTC) of scheduled backups; null: off. */
  schedule: string | null;
  /** Cron expression (UTC) of restore drills; null: off. */
  drillSchedule: string | null;
  keepLast: number;
  keepDays: number;
  maxAgeHours: number;
}

/** What the backups area is built from. */
export interface BackupServiceDeps {
  config: Config;
  orm: MikroORM;
  pubsub: VigilPubSub;
  logger: Logger;
  audit: AuditRecorder;
  /** Names this process in operation records; unique per running instance. */
  instanceId: string;
  /**
   * Schedules, retention and the freshness limit, read on every use (live settings swap it).
   * @default the configuration's `backups`
   */
  policy?: () => BackupPolicy;
  /** `vigil_backup_duration_seconds{trigger,outcome}` and `vigil_backup_size_bytes{trigger}`. */
  metrics?: Pick<VigilMetrics, 'backupDuration' | 'backupSize'>;
}

/**
 * What the backup modules share on one instance: settings, the matching pg_dump/pg_restore, the
 * running client tools (stopped on shutdown), the background work, and event publishing.
 */
export class BackupContext {
  private tools: Promise<{ tools: PgTools } | { error: string }> | null = null;
  private readonly running = new Set<Promise<unknown>>();
  private readonly toolsRunning = new Set<RunningTool>();
  /** The server's major version once read (for the health report). */
  serverMajor: number | null = null;
  /** True once the instance is shutting down: failures then say "interrupted". */
  stopping = false;

  constructor(readonly deps: BackupServiceDeps) {}

  /** The backup directory (shared storage when several instances run). */
  get directory(): string {
    return this.deps.config.backups.dir;
  }

  /** Schedules, retention and the freshness limit in force now. */
  policy(): BackupPolicy {
    return this.deps.policy?.() ?? this.deps.config.backups;
  }

  get databaseUrl(): string {
    return this.deps.orm.config.get('clientUrl') as string;
  }

  get log(): Logger {
    return this.deps.logger;
  }

  loadTools(): Promise<{ tools: PgTools } | { error: string }> {
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
  async requireTools(): Promise<PgTools> {
    const found = await this.loadTools();
    if ('error' in found) throw new ServiceUnavailableError(`Backups are unavailable: ${found.error}`);
    return found.tools;
  }

  /** libpq settings for a tool reaching `url` (default: this database). */
  toolEnv(url = this.databaseUrl, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return libpqEnv(url, this.deps.config.backups.searchPath, extra);
  }

  /** Starts a client tool that dies with this process and is stopped by {@link stopTools}. */
  startTool(file: string, args: string[], env: NodeJS.ProcessEnv): RunningTool {
    const tool = startTool(file, args, env);
    this.toolsRunning.add(tool);
    tool.done.then(
      () => this.toolsRunning.delete(tool),
      () => this.toolsRunning.delete(tool),
    );
    return tool;
  }

  /** Runs a client tool to completion (see {@link startTool}); returns its stdout. */
  runTool(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    return runTool(file, args, env, (tool) => {
      this.toolsRunning.add(tool);
      return () => this.toolsRunning.delete(tool);
    });
  }

  /** Stops every client tool this instance runs. */
  stopTools(): void {
    for (const tool of this.toolsRunning) tool.stop();
  }

  /** Keeps a background operation, so {@link idle} and shutdown wait for it. */
  track<T>(promise: Promise<T>): Promise<T> {
    const tracked = promise.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
    return tracked;
  }

  /** Waits for every tracked operation. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Records a finished backup's duration (and size when it succeeded) in the metrics. */
  observeBackup(backup: { trigger: string; startedAt: Date; sizeBytes?: number | null }, outcome: 'succeeded' | 'failed'): void {
    const m = this.deps.metrics;
    if (!m) return;
    m.backupDuration.observe({ trigger: backup.trigger, outcome }, Math.max(0, Date.now() - backup.startedAt.getTime()) / 1000);
    if (outcome === 'succeeded' && typeof backup.sizeBytes === 'number') m.backupSize.observe({ trigger: backup.trigger }, backup.sizeBytes);
  }

  publishProgress(event: BackupProgressEvent): void {
    this.deps.pubsub.publish(BACKUP_EVENTS.PROGRESS, event.id, event);
  }

  publish(topic: string, payload: Record<string, unknown>): void {
    this.deps.pubsub.publish(topic, payload);
  }

  /** Writes an audit entry in a transaction of its own. */
  async audit(meta: RequestMeta, entry: AuditEntryInput): Promise<void> {
    await this.deps.audit.record(this.deps.orm.em.fork(), meta, entry);
  }
}
