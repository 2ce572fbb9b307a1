import { readFile, rm, writeFile, rename, chmod } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { isProcessAlive } from './process-alive';

/**
 * How to reach an embedded PostgreSQL that a running Vigil process (server or CLI) started: written
 * by that process under its data directory, read by the CLI so `vigil seed`, `vigil user` or
 * `vigil backup` work beside `npm start` instead of trying to start a second server on the same data.
 */
export interface EmbeddedEndpoint {
  /** Connection URL, with the generated password. */
  url: string;
  /** The process that owns the database; the file is stale once it is gone. */
  pid: number;
  startedAt: string;
}

/** The file's name under the data directory. */
export const ENDPOINT_FILE = 'embedded-postgres.json';

const fileOf = (dataDir: string) => path.join(dataDir, ENDPOINT_FILE);

/** Records the endpoint, readable by the owner only (it holds the database password). */
export async function writeEmbeddedEndpoint(dataDir: string, url: string): Promise<void> {
  const file = fileOf(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  const endpoint: EmbeddedEndpoint = { url, pid: process.pid, startedAt: new Date().toISOString() };
  await writeFile(tmp, `${JSON.stringify(endpoint)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/** Removes the file when it is this process's (a later owner's file stays). */
export async function removeEmbeddedEndpoint(dataDir: string): Promise<void> {
  const endpoint = await readEndpointFile(dataDir);
  if (endpoint?.pid === process.pid) await rm(fileOf(dataDir), { force: true });
}

async function readEndpointFile(dataDir: string): Promise<EmbeddedEndpoint | undefined> {
  try {
    const parsed = JSON.parse(await readFile(fileOf(dataDir), 'utf8')) as Partial<EmbeddedEndpoint>;
    if (typeof parsed.url !== 'string' || typeof parsed.pid !== 'number') return undefined;
    return { url: parsed.url, pid: parsed.pid, startedAt: String(parsed.startedAt ?? '') };
  } catch {
    return undefined;
  }
}

/**
 * The endpoint of an embedded database another live process serves from `dataDir`, when its file
 * exists, its owner still runs and the database answers within `timeoutMs`; undefined otherwise
 * (no file, a stale file after a crash, or a database that is stopping).
 */
export async function findRunningEmbedded(dataDir: string, timeoutMs = 3000): Promise<EmbeddedEndpoint | undefined> {
  const endpoint = await readEndpointFile(dataDir);
  if (!endpoint || endpoint.pid === process.pid || !isProcessAlive(endpoint.pid)) return undefined;
  const client = new Client({ connectionString: endpoint.url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return endpoint;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}
