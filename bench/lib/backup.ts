import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadConfig } from '../../src/config';
import { systemMeta } from '../../src/context';
import { openOrm } from '../../src/infra/db';
import { createLogger } from '../../src/infra/logger';
import { createVigilPubSub } from '../../src/infra/pubsub';
import { BackupStatus, BackupTrigger } from '../../src/schema/backup.enums';
import { AuditService } from '../../src/services/audit/audit.service';
import { BackupService } from '../../src/services/backups/backup.service';
import { libpqEnv } from '../../src/services/backups/pg-tools';

/** One way of backing up, measured. */
export interface BackupMeasurement {
  /** Best of the rounds, milliseconds. */
  ms: number;
  bytes: number;
}

/** Vigil's backup beside plain `pg_dump | gzip` of the same database in the same run. */
export interface BackupBenchResult {
  rounds: number;
  vigil: BackupMeasurement;
  pgDumpGzip: BackupMeasurement;
  /** vigil time / baseline time (close to 1: the checksum and manifest cost little). */
  timeRatio: number;
  /** vigil size / baseline size. */
  sizeRatio: number;
}

async function pgDumpGzip(pgDump: string, databaseUrl: string, searchPath: string, file: string): Promise<BackupMeasurement> {
  const started = performance.now();
  const dump = spawn(pgDump, ['--format=plain', '--no-password'], { env: libpqEnv(databaseUrl, searchPath), stdio: ['ignore', 'pipe', 'inherit'] });
  const gzip = spawn('gzip', ['-6', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = (child: ReturnType<typeof spawn>, name: string) =>
    new Promise<void>((resolve, reject) => child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${name} exited with ${code}`)))));
  await Promise.all([
    pipeline(dump.stdout, gzip.stdin),
    pipeline(gzip.stdout, createWriteStream(file)),
    exited(dump, 'pg_dump'),
    exited(gzip, 'gzip'),
  ]);
  return { ms: performance.now() - started, bytes: statSync(file).size };
}

/**
 * Measures `BackupService` (pg_dump custom format, hashed and counted in the same pass, manifest
 * with row counts) against `pg_dump | gzip -6` on the same database, alternating, best of `rounds`.
 */
export async function runBackupBench(databaseUrl: string, rounds = 3): Promise<BackupBenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-backup-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    VIGIL_BACKUP_DIR: dir,
    VIGIL_BACKUP_KEEP_LAST: '1',
    VIGIL_BACKUP_SCHEDULE: 'off',
    VIGIL_BACKUP_DRILL_SCHEDULE: 'off',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  });
  const logger = createLogger('silent');
  const orm = await openOrm(databaseUrl, 2, logger);
  const pubsub = createVigilPubSub();
  const backups = new BackupService({ config, orm, pubsub, logger, audit: new AuditService({ orm, pubsub, logger }), instanceId: `bench-${process.pid}` });
  try {
    const tool = await backups.backupTool();
    if (!tool.available || !tool.pgDump) throw new Error(tool.detail);
    let vigil: BackupMeasurement = { ms: Infinity, bytes: 0 };
    let baseline: BackupMeasurement = { ms: Infinity, bytes: 0 };
    for (let round = 0; round < rounds; round++) {
      const base = await pgDumpGzip(tool.pgDump, databaseUrl, config.backups.searchPath, path.join(dir, `baseline-${round}.sql.gz`));
      if (base.ms < baseline.ms) baseline = base;
      const started = performance.now();
      const { done } = await backups.begin(systemMeta('bench'), { label: `bench ${round}`, trigger: BackupTrigger.MANUAL });
      const backup = await done;
      const ms = performance.now() - started;
      if (backup.status !== BackupStatus.SUCCEEDED) throw new Error(`backup failed: ${backup.error}`);
      if (ms < vigil.ms) vigil = { ms, bytes: backup.sizeBytes ?? 0 };
    }
    return {
      rounds,
      vigil,
      pgDumpGzip: baseline,
      timeRatio: vigil.ms / baseline.ms,
      sizeRatio: vigil.bytes / baseline.bytes,
    };
  } finally {
    await backups.stop();
    await orm.close(true);
    rmSync(dir, { recursive: true, force: true });
  }
}
