import { statfs } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import { Client } from 'pg';
import { databasePoolSnapshot } from '../../infra/db-pool';
import { HealthStatus } from '../../schema/enums';
import type { HealthCheck } from './health-check';

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** Thresholds of the database component. */
export interface DatabaseThresholds {
  latencyDegradedMs: number;
  poolWaitingDegraded: number;
}

/**
 * Round trip to PostgreSQL on a connection of its own, outside the ORM's pool, plus the pool's
 * state: a pool busy with a write burst makes callers wait, which reads as DEGRADED (queued callers
 * or a slow round trip), never as a database that is DOWN — every instance's readiness would
 * otherwise fail at once. DOWN when the database cannot be reached (or by the service's timeout).
 * The connection is opened in the background on first use and again after any failure; until it
 * is open, the round trip takes a pooled connection.
 */
export function databaseCheck(orm: MikroORM, thresholds: DatabaseThresholds = { latencyDegradedMs: 500, poolWaitingDegraded: 5 }): HealthCheck {
  let client: Client | undefined;
  let connecting: Promise<void> | undefined;
  let stopped = false;
  const drop = () => {
    const current = client;
    client = undefined;
    current?.end().catch(() => undefined);
  };
  /** The connection when it is open; otherwise starts opening it in the background. */
  const dedicated = (): Client | undefined => {
    if (client || connecting || stopped) return client;
    const fresh = new Client({ connectionString: orm.config.get('clientUrl'), application_name: 'vigil-health', connectionTimeoutMillis: 10_000 });
    // An idle connection that dies (server restart) reports here; the next check reconnects.
    fresh.on('error', () => {
      if (client === fresh) drop();
    });
    connecting = fresh.connect().then(
      () => {
        if (stopped) void fresh.end().catch(() => undefined);
        else client = fresh;
      },
      () => fresh.end().catch(() => undefined),
    );
    void connecting.finally(() => {
      connecting = undefined;
    });
    return undefined;
  };
  return {
    name: 'database',
    critical: true,
    async run(signal) {
      const started = performance.now();
      const own = dedicated();
      if (own) {
        const onAbort = () => drop();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await own.query('select 1');
        } catch (error) {
          drop();
          throw error;
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      } else {
        // Until its own connection is open (first check, or after a loss), one from the pool.
        await orm.em.getConnection().execute('select 1');
      }
      const latency = round(performance.now() - started);
      const pool = databasePoolSnapshot(orm);
      const poolText = pool ? `; pool ${pool.used} in use, ${pool.free} idle, ${pool.pending} waiting (max ${pool.max})` : '';
      const slow = latency > thresholds.latencyDegradedMs;
      const queued = (pool?.pending ?? 0) >= thresholds.poolWaitingDegraded;
      return {
        status: slow || queued ? HealthStatus.DEGRADED : HealthStatus.UP,
        detail: `round trip ${latency} ms${poolText}${slow ? ' — slow' : ''}${queued ? ' — callers are waiting for connections' : ''}`,
        observedValue: latency,
        observedUnit: 'ms',
      };
    },
    stop: () => {
      stopped = true;
      drop();
    },
  };
}

/** Round trip to Redis; without it the gateway degrades to in-process pub/sub and limits. */
export function redisCheck(redis: Redis): HealthCheck {
  return {
    name: 'redis',
    critical: false,
    async run() {
      if (redis.status !== 'ready') return { status: HealthStatus.DOWN, detail: `connection is ${redis.status}` };
      const started = performance.now();
      await redis.ping();
      const latency = round(performance.now() - started);
      return { status: HealthStatus.UP, detail: `round trip ${latency} ms`, observedValue: latency, observedUnit: 'ms' };
    },
  };
}

/**
 * Event-loop delay (p99 since the previous check, from `perf_hooks.monitorEventLoopDelay`): a
 * blocked loop delays every request and websocket on this instance.
 */
export function eventLoopCheck(thresholds: { degradedMs: number; downMs: number }): HealthCheck {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  return {
    name: 'eventLoop',
    critical: false,
    async run() {
      const p99 = histogram.count > 0 ? round(histogram.percentile(99) / 1e6) : 0;
      const max = histogram.count > 0 ? round(histogram.max / 1e6) : 0;
      histogram.reset();
      const status = p99 >= thresholds.downMs ? HealthStatus.DOWN : p99 >= thresholds.degradedMs ? HealthStatus.DEGRADED : HealthStatus.UP;
      return { status, detail: `delay p99 ${p99} ms, max ${max} ms`, observedValue: p99, observedUnit: 'ms' };
    },
    stop() {
      histogram.disable();
    },
  };
}

/** Thresholds of the memory component; a limit of 0 means the V8 heap limit and total system memory. */
export interface MemoryThresholds {
  limitBytes: number;
  degradedPercent: number;
  downPercent: number;
}

/** Resident set and V8 heap against their limits; the higher share decides. */
export function memoryCheck(thresholds: MemoryThresholds): HealthCheck {
  return {
    name: 'memory',
    critical: false,
    async run() {
      const usage = process.memoryUsage();
      const rssLimit = thresholds.limitBytes || totalmem();
      const heapLimit = thresholds.limitBytes || getHeapStatistics().heap_size_limit;
      const rssPercent = round((usage.rss / rssLimit) * 100, 1);
      const heapPercent = round((usage.heapUsed / heapLimit) * 100, 1);
      const worst = Math.max(rssPercent, heapPercent);
      const status =
        worst >= thresholds.downPercent ? HealthStatus.DOWN : worst >= thresholds.degradedPercent ? HealthStatus.DEGRADED : HealthStatus.UP;
      return {
        status,
        detail: `rss ${mib(usage.rss)} (${rssPercent}% of ${mib(rssLimit)}), heap ${mib(usage.heapUsed)} (${heapPercent}% of ${mib(heapLimit)})`,
        observedValue: worst,
        observedUnit: '%',
      };
    },
  };
}

/** The directory itself, or its nearest ancestor that exists (a backup directory may not yet). */
function existingAncestor(dir: string): string {
  let current = path.resolve(dir);
  while (!existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

/** Free space on the file systems holding the data and backup directories; the fullest decides. */
export function diskCheck(directories: Record<string, string>, thresholds: { freeDegradedPercent: number; freeDownPercent: number }): HealthCheck {
  return {
    name: 'disk',
    critical: false,
    async run() {
      const readings = await Promise.all(
        Object.entries(directories).map(async ([label, dir]) => {
          const fs = await statfs(existingAncestor(dir));
          const freePercent = fs.blocks ? round((fs.bavail / fs.blocks) * 100, 1) : 100;
          return { label, freePercent, freeBytes: fs.bavail * fs.bsize };
        }),
      );
      const fullest = readings.reduce((a, b) => (b.freePercent < a.freePercent ? b : a));
      const status =
        fullest.freePercent <= thresholds.freeDownPercent
          ? HealthStatus.DOWN
          : fullest.freePercent <= thresholds.freeDegradedPercent
            ? HealthStatus.DEGRADED
            : HealthStatus.UP;
      return {
        status,
        detail: readings.map((r) => `${r.label} ${r.freePercent}% free (${mib(r.freeBytes)})`).join(', '),
        observedValue: fullest.freePercent,
        observedUnit: '% free',
      };
    },
  };
}

/** What the backup-freshness check asks the backups area. */
export interface BackupFreshnessSource {
  lastSuccessfulBackupAt(): Promise<Date | null>;
}

/**
 * Age of the last successful backup. With none yet, the age counts from when this instance
 * started, so a fresh installation is not DEGRADED before a backup could have run.
 */
export function backupFreshnessCheck(
  source: BackupFreshnessSource,
  thresholds: { degradedHours: number; downHours: number },
  startedAt = new Date(),
): HealthCheck {
  return {
    name: 'backups',
    critical: false,
    async run() {
      const last = await source.lastSuccessfulBackupAt();
      const since = last ?? startedAt;
      const ageHours = round((Date.now() - since.getTime()) / 3_600_000);
      const status =
        ageHours >= thresholds.downHours ? HealthStatus.DOWN : ageHours >= thresholds.degradedHours ? HealthStatus.DEGRADED : HealthStatus.UP;
      const detail = last ? `last successful backup ${ageHours} h ago (${last.toISOString()})` : `no successful backup yet (watching for ${ageHours} h)`;
      return { status, detail, observedValue: ageHours, observedUnit: 'h' };
    },
  };
}

/** The last audit-chain verification, as the audit area reports it. */
export interface AuditVerificationResult {
  ok: boolean;
  /** When the verification ran. */
  at: Date;
  checkedCount?: number | string | bigint | null;
  firstBrokenSeq?: number | string | bigint | null;
}

/** What the audit-chain check asks the audit area. */
export interface AuditVerificationSource {
  lastVerification(): AuditVerificationResult | null | Promise<AuditVerificationResult | null>;
}

/**
 * Audit-chain integrity: DOWN when the last verification found a broken link, DEGRADED when no
 * verification ran within the allowed age (counted from this instance's start when none ran yet).
 */
export function auditChainCheck(source: AuditVerificationSource, thresholds: { maxAgeHours: number }, startedAt = new Date()): HealthCheck {
  return {
    name: 'auditChain',
    critical: false,
    async run() {
      const last = await source.lastVerification();
      const ageHours = round((Date.now() - (last?.at ?? startedAt).getTime()) / 3_600_000);
      if (last && !last.ok) {
        return {
          status: HealthStatus.DOWN,
          detail: `verification ${ageHours} h ago found the chain broken at seq ${String(last.firstBrokenSeq ?? '?')}`,
          observedValue: ageHours,
          observedUnit: 'h',
        };
      }
      const stale = ageHours >= thresholds.maxAgeHours;
      const detail = last
        ? `verified ${ageHours} h ago (${String(last.checkedCount ?? '?')} entries intact)`
        : `not verified yet (watching for ${ageHours} h)`;
      return { status: stale ? HealthStatus.DEGRADED : HealthStatus.UP, detail, observedValue: ageHours, observedUnit: 'h' };
    },
  };
}

/** What the backup-tool check asks the backups area. */
export interface BackupToolSource {
  backupTool(): Promise<{ available: boolean; detail: string | null }>;
}

/**
 * Whether backups can run at all: a pg_dump/pg_restore matching the server's major version. Without
 * one the component is DEGRADED and its detail says what to install.
 */
export function backupToolCheck(source: BackupToolSource): HealthCheck {
  return {
    name: 'backupTool',
    critical: false,
    async run() {
      const tool = await source.backupTool();
      return { status: tool.available ? HealthStatus.UP : HealthStatus.DEGRADED, detail: tool.detail ?? undefined };
    },
  };
}
