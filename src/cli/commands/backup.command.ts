import { userInfo } from 'node:os';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { systemMeta, type RequestMeta } from '../../context';
import { ErrorCode, VigilError } from '../../errors';
import type { MikroORM } from '../../infra/db';
import { BackupStatus, BackupTrigger, RestoreDatabaseState } from '../../schema/backup.enums';
import type { Services } from '../../services';
import type { BackupProgressEvent } from '../../services/backups/backup.service';
import { CliError, ExitCode } from '../runtime';
import { withServices } from '../services';

/**
 * Exit codes of `vigil backup …`, beyond {@link ExitCode}: 0 done, 1 failed (a backup that
 * failed, a verification that did not pass, a restore rolled back), 2 usage or a refused backup.
 */
export const BackupExitCode = {
  ...ExitCode,
  /** Another backup or restore is running (CONFLICT). */
  BUSY: 3,
  /** No such backup. */
  NOT_FOUND: 4,
  /** No pg_dump / pg_restore matching the server is installed. */
  UNAVAILABLE: 5,
} as const;

/** Where the command prints: stdout for results, stderr for progress. */
export interface BackupCommandIo {
  out(line: string): void;
  err(line: string): void;
  isTTY: boolean;
}

const defaultIo = (): BackupCommandIo => ({
  out: (line) => console.log(line),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: Boolean(process.stderr.isTTY),
});

function cliMeta(operation: string): RequestMeta {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): the operation is still recorded
  }
  return { ...systemMeta(`cli:${operation}`), userAgent: `vigil-cli (${user})` };
}

/** Turns a service error into one line and an exit code. */
function asCliError(error: unknown): unknown {
  if (!(error instanceof VigilError)) return error;
  const code = error.extensions.code;
  const exit =
    code === ErrorCode.CONFLICT
      ? BackupExitCode.BUSY
      : code === ErrorCode.NOT_FOUND
        ? BackupExitCode.NOT_FOUND
        : code === ErrorCode.SERVICE_UNAVAILABLE
          ? BackupExitCode.UNAVAILABLE
          : code === ErrorCode.BAD_USER_INPUT
            ? BackupExitCode.USAGE
            : BackupExitCode.FAILURE;
  return new CliError(error.message.replace(/\s+/g, ' '), exit);
}

function withBackups<T>(fn: (services: Services, orm: MikroORM) => Promise<T>): Promise<T> {
  return withServices((services, { orm }) => fn(services, orm), { asCliError });
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Progress of a backup: a bar on a terminal (the size is unknown, so it shows bytes), lines otherwise. */
function progressReporter(io: BackupCommandIo): { update(event: BackupProgressEvent): void; stop(): void } {
  if (io.isTTY) {
    const bar = new SingleBar(
      { format: 'backup {phase} | {bytes} written | {duration_formatted}', stream: process.stderr, hideCursor: true },
      Presets.shades_classic,
    );
    bar.start(1, 0, { phase: 'STARTING', bytes: '0 B' });
    return {
      update: (e) => bar.update(e.status === BackupStatus.RUNNING ? 0 : 1, { phase: e.phase.padEnd(10), bytes: formatBytes(e.bytesWritten) }),
      stop: () => bar.stop(),
    };
  }
  let lastPhase = '';
  return {
    update: (e) => {
      if (e.phase === lastPhase && e.phase !== 'DUMPING') return;
      lastPhase = e.phase;
      io.err(`backup ${e.id}: ${e.phase} ${formatBytes(e.bytesWritten)}${e.error ? ` (${e.error})` : ''}`);
    },
    stop: () => undefined,
  };
}

/** `vigil backup create`: runs a backup to the end, showing progress. */
export async function runBackupCreate(options: { label?: string; json?: boolean }, io: BackupCommandIo = defaultIo()): Promise<number> {
  return withBackups(async ({ backups }) => {
    const { backup, done } = await backups.begin(cliMeta('backup create'), { label: options.label ?? null, trigger: BackupTrigger.MANUAL });
    const progress = progressReporter(io);
    // The reporter reads as fast as events come; a stalled terminal only loses progress lines.
    const events = backups.progress(backup.id, { maxQueue: 10_000, onOverflow: () => undefined });
    const following = (async () => {
      for await (const event of events) progress.update(event);
    })();
    const result = await done;
    await following.catch(() => undefined);
    progress.stop();
    if (options.json) io.out(JSON.stringify(result, null, 2));
    if (result.status !== BackupStatus.SUCCEEDED) {
      throw new CliError(`backup ${result.id} failed: ${result.error ?? 'unknown error'}`, BackupExitCode.FAILURE);
    }
    if (!options.json) io.out(`backup ${result.id} SUCCEEDED: ${formatBytes(result.sizeBytes ?? 0)}, sha256 ${result.sha256}`);
    return BackupExitCode.OK;
  });
}

/** `vigil backup list`: the newest backups, one per line. */
export async function runBackupList(options: { first: number; json?: boolean }, io: BackupCommandIo = defaultIo()): Promise<number> {
  return withBackups(async ({ backups }, orm) => {
    await backups.rescan();
    const page = await backups.list(orm.em.fork(), { first: options.first });
    if (options.json) {
      io.out(JSON.stringify(page.edges.map((e) => e.node), null, 2));
      return BackupExitCode.OK;
    }
    if (!page.edges.length) io.out('no backups');
    for (const { node: b } of page.edges) {
      io.out(
        [b.id, b.status.padEnd(9), b.trigger.padEnd(11), b.startedAt.toISOString(), b.sizeBytes ? formatBytes(b.sizeBytes) : '-', b.label ?? '']
          .join('  ')
          .trimEnd(),
      );
    }
    if (page.totalCount > page.edges.length) io.out(`(${page.edges.length} of ${page.totalCount})`);
    return BackupExitCode.OK;
  });
}

/** `vigil backup verify <id>`: exit 0 when every check passes, 1 otherwise. */
export async function runBackupVerify(id: string, options: { json?: boolean }, io: BackupCommandIo = defaultIo()): Promise<number> {
  return withBackups(async ({ backups }) => {
    const result = await backups.verify(cliMeta('backup verify'), id);
    if (options.json) io.out(JSON.stringify({ ok: result.ok, at: result.at, checks: result.checks }, null, 2));
    else {
      for (const c of result.checks) io.out(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(13)} ${c.detail ?? ''}`.trimEnd());
      io.out(result.ok ? `backup ${id} verified` : `backup ${id} did NOT verify`);
    }
    return result.ok ? BackupExitCode.OK : BackupExitCode.FAILURE;
  });
}

/** `vigil backup restore <id> --confirm <id>`: exit 0 restored, 1 failed (the message says what the database holds). */
export async function runBackupRestore(id: string, options: { confirm?: string }, io: BackupCommandIo = defaultIo()): Promise<number> {
  if (options.confirm !== id) {
    throw new CliError(`restoring replaces the whole database: repeat the backup id with --confirm ${id}`, BackupExitCode.USAGE);
  }
  return withBackups(async ({ backups }) => {
    const result = await backups.restore(cliMeta('backup restore'), id, options.confirm ?? '');
    if (!result.ok) {
      const state =
        result.databaseState === RestoreDatabaseState.UNCHANGED
          ? 'the database is as it was before the attempt'
          : 'whether the database changed could not be read: check it before writing';
      const safety = result.safetyBackup ? `; safety backup ${result.safetyBackup.id}` : '';
      throw new CliError(`restore of ${id} failed, ${state}${safety}: ${result.error ?? 'unknown error'}`, BackupExitCode.FAILURE);
    }
    io.out(`backup ${id} restored; safety backup ${result.safetyBackup?.id ?? '-'}`);
    return BackupExitCode.OK;
  });
}

/** `vigil backup delete <id>` */
export async function runBackupDelete(id: string, io: BackupCommandIo = defaultIo()): Promise<number> {
  return withBackups(async ({ backups }) => {
    await backups.delete(cliMeta('backup delete'), id);
    io.out(`backup ${id} deleted`);
    return BackupExitCode.OK;
  });
}

function firstOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new CliError('--first must be an integer from 1 to 100', BackupExitCode.USAGE);
  return n;
}

export function registerBackupCommand(program: Command): void {
  const backup = program
    .command('backup')
    .description('create, list, verify, restore and delete database backups (exit: 0 ok, 1 failed, 2 refused/usage, 3 busy, 4 not found, 5 no pg_dump)');
  const exit = (code: number) => {
    process.exitCode = code;
  };
  backup
    .command('create')
    .description('back up the whole database now (pg_dump custom format), showing progress')
    .option('--label <label>', 'a label to recognise it by')
    .option('--json', 'print the backup as JSON')
    .action(async (options: { label?: string; json?: boolean }) => exit(await runBackupCreate(options)));
  backup
    .command('list')
    .description('list backups, newest first')
    .option('--first <n>', 'how many (1–100)', firstOption, 20)
    .option('--json', 'print JSON')
    .action(async (options: { first: number; json?: boolean }) => exit(await runBackupList(options)));
  backup
    .command('verify <id>')
    .description('check size and checksum, then restore into a scratch database and compare row counts')
    .option('--json', 'print the result as JSON')
    .action(async (id: string, options: { json?: boolean }) => exit(await runBackupVerify(id, options)));
  backup
    .command('restore <id>')
    .description('replace the database with a backup, after a safety backup (rolled back on failure)')
    .option('--confirm <id>', 'the same backup id again: restoring replaces every table')
    .action(async (id: string, options: { confirm?: string }) => exit(await runBackupRestore(id, options)));
  backup
    .command('delete <id>')
    .description('delete a backup and its files')
    .action(async (id: string) => exit(await runBackupDelete(id)));
}
