import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** pg_dump and pg_restore of one PostgreSQL major version, from the same directory. */
export interface PgTools {
  pgDump: string;
  pgRestore: string;
  /** e.g. `pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)` */
  version: string;
  major: number;
}

/** Whether backups can run here, for the health report and for error messages. */
export interface BackupToolStatus {
  available: boolean;
  pgDump: string | null;
  pgRestore: string | null;
  version: string | null;
  serverMajor: number | null;
  /** What was found, or what to install. */
  detail: string;
}

async function executable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function toolVersion(file: string): Promise<{ version: string; major: number } | null> {
  try {
    const { stdout } = await run(file, ['--version'], { timeout: 10_000 });
    const version = stdout.trim();
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(version);
    return match ? { version, major: Number(match[1]) } : null;
  } catch {
    return null;
  }
}

/** The install hint for a server major version. */
export function installHint(major: number): string {
  return `install PostgreSQL ${major} client tools (Debian/Ubuntu: apt-get install postgresql-client-${major}) or set PG_BIN_DIR to their directory`;
}

/**
 * Finds pg_dump and pg_restore whose major version equals the server's: first in `binDir`
 * (PG_BIN_DIR), then Debian's `/usr/lib/postgresql/<major>/bin`, then every PATH directory.
 * pg_dump refuses a newer server, and an older pg_restore cannot read a newer archive, so the
 * versions must match rather than merely be recent.
 */
export async function findPgTools(
  serverMajor: number,
  binDir: string | undefined,
  searchPath: string,
): Promise<{ tools: PgTools } | { error: string }> {
  const dirs = [
    ...(binDir ? [binDir] : []),
    `/usr/lib/postgresql/${serverMajor}/bin`,
    ...searchPath.split(path.delimiter).filter(Boolean),
  ];
  const seen: string[] = [];
  for (const dir of [...new Set(dirs)]) {
    const pgDump = path.join(dir, 'pg_dump');
    const pgRestore = path.join(dir, 'pg_restore');
    if (!(await executable(pgDump))) continue;
    const found = await toolVersion(pgDump);
    if (!found) continue;
    if (found.major !== serverMajor) {
      seen.push(`${pgDump} is version ${found.major}`);
      continue;
    }
    if (!(await executable(pgRestore))) {
      seen.push(`${dir} has pg_dump but no pg_restore`);
      continue;
    }
    return { tools: { pgDump, pgRestore, version: found.version, major: found.major } };
  }
  const detail = seen.length ? ` (${seen.join('; ')})` : '';
  return { error: `no pg_dump ${serverMajor} matching the database server was found${detail}: ${installHint(serverMajor)}` };
}

/** libpq environment for a connection URL, so no password appears on a command line. */
export function libpqEnv(databaseUrl: string, searchPath: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const url = new URL(databaseUrl);
  const env: NodeJS.ProcessEnv = {
    PATH: searchPath,
    LC_ALL: 'C',
    PGHOST: decodeURIComponent(url.hostname.replace(/^\[|\]$/g, '')) || 'localhost',
    PGPORT: url.port || '5432',
    PGDATABASE: decodeURIComponent(url.pathname.replace(/^\//, '')),
    PGAPPNAME: 'vigil-backup',
    PGCONNECT_TIMEOUT: '10',
    ...extra,
  };
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  const host = url.searchParams.get('host');
  if (host) env.PGHOST = host;
  return env;
}

/** A database URL with another database name (same server and credentials). */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/**
 * Runs the tool under a small POSIX shell watchdog: the tool's stdin is /dev/null, while the
 * wrapper's stdin is a pipe this process holds open. When this process ends for any reason,
 * SIGKILL included, the kernel closes the pipe, the watchdog reads end-of-file and terminates the
 * tool (SIGTERM, then SIGKILL after 5 s). Node has no PR_SET_PDEATHSIG, and a process group alone
 * does not die with its parent; a pipe's end-of-file does.
 */
const WATCHDOG = [
  'tool="$1"; shift',
  'exec 3<&0',
  '"$tool" "$@" </dev/null & child=$!',
  '{ while read -r _; do :; done; kill -TERM "$child" 2>/dev/null; sleep 5; kill -KILL "$child" 2>/dev/null; } <&3 >/dev/null 2>&1 & watcher=$!',
  'exec 3<&-',
  'wait "$child"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** A running PostgreSQL client tool. */
export interface RunningTool {
  /** The tool's standard output (pg_dump's archive). */
  stdout: NodeJS.ReadableStream & { setEncoding(encoding: BufferEncoding): unknown };
  /** Resolves when the tool exits 0; rejects with the end of its stderr otherwise. */
  done: Promise<void>;
  /** The watchdog shell's pid (the tool is its child). */
  pid: number | undefined;
  /** Stops the tool (closes the watchdog's pipe: SIGTERM to the tool, SIGKILL 5 s later). */
  stop(): void;
}

/**
 * Starts a PostgreSQL client tool that cannot outlive this process (see {@link WATCHDOG});
 * stderr is collected (bounded) for the error message.
 */
export function startTool(file: string, args: string[], env: NodeJS.ProcessEnv): RunningTool {
  const child: ChildProcessWithoutNullStreams = spawn('/bin/sh', ['-c', WATCHDOG, 'vigil-pg-tool', file, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // The pipe stays open on purpose: its closing is the watchdog's signal. A write error after the
  // watchdog ended is expected and harmless.
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 16_384) stderr += chunk;
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      child.stdin.destroy();
      if (code === 0) resolve();
      else {
        const message = stderr.trim().split('\n').slice(-3).join(' | ') || `exited with ${signal ?? code}`;
        reject(new Error(`${path.basename(file)}: ${message}`));
      }
    });
  });
  return { stdout: child.stdout, done, pid: child.pid, stop: () => child.stdin.destroy() };
}

/** Runs a tool to completion, returning its stdout; `onStart` receives the handle (to stop it). */
export async function runTool(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onStart?: (tool: RunningTool) => () => void,
): Promise<string> {
  const tool = startTool(file, args, env);
  const forget = onStart?.(tool);
  let stdout = '';
  tool.stdout.setEncoding('utf8');
  tool.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  try {
    await tool.done;
  } finally {
    forget?.();
  }
  return stdout;
}
