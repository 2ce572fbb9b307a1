import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { findFreePort } from '../../src/infra/net';

const run = promisify(execFile);

/** Debian's PostgreSQL binaries; PG_BIN_DIR overrides. */
export const PG_BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/** A throwaway PostgreSQL server on a free loopback port. */
export interface TestPostgres {
  port: number;
  /** URL of a database on this server (default `postgres`). */
  url(database?: string): string;
  /** Stops the server, keeping its data (for outage tests). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops the server and removes its data. */
  destroy(): Promise<void>;
}

const asRoot = userInfo().uid === 0;

/** Postgres refuses to run as root: as root, run its tools as the `postgres` user. */
function pgCommand(tool: string, args: string[]) {
  const bin = path.join(PG_BIN, tool);
  return asRoot ? { file: 'runuser', args: ['-u', 'postgres', '--', bin, ...args] } : { file: bin, args };
}

async function pg(tool: string, args: string[]): Promise<void> {
  const { file, args: argv } = pgCommand(tool, args);
  await run(file, argv, { timeout: 60_000 });
}

/** Says what to install instead of failing inside `runuser` or `spawn` when a tool is missing. */
export function assertPostgresInstalled(): void {
  for (const tool of ['initdb', 'pg_ctl']) {
    if (!existsSync(path.join(PG_BIN, tool))) {
      throw new Error(
        `PostgreSQL 15 is not installed: ${path.join(PG_BIN, tool)} is missing — apt-get install -y postgresql-15 postgresql-client-15, or set PG_BIN_DIR to a PostgreSQL 15 bin directory`,
      );
    }
  }
  if (asRoot && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser') && !existsSync('/usr/bin/runuser')) {
    throw new Error('the tests run PostgreSQL as the postgres user through runuser (util-linux), which is missing: apt-get install -y util-linux');
  }
}

/** Initialises and starts a fresh cluster (trust auth, durability off: it is thrown away). */
export async function startPostgres(settings: Record<string, string> = {}): Promise<TestPostgres> {
  assertPostgresInstalled();
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pg-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = path.join(dir, 'data');
  const port = await findFreePort();
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=300',
    ...Object.entries(settings).map(([key, value]) => `-c ${key}=${value}`),
  ].join(' ');
  const start = () => pg('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stop = () => pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  await start();
  let running = true;
  return {
    port,
    url: (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    async stop() {
      if (running) await stop();
      running = false;
    },
    async start() {
      if (!running) await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs SQL as the superuser on one database of a server. */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
