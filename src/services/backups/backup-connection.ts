import { Client } from 'pg';

/** Advisory lock keys of the backups area (the audit area uses 7_310_443_00x). */
export const BACKUP_LOCKS = {
  /** Held for the whole of a backup or a restore, across instances: two never run at once. */
  backup: 7_310_449_001,
  /** Held while a restore drill runs, so one instance drills per slot. */
  drill: 7_310_449_002,
  /** Held while the freshness check runs, so one instance raises BACKUP_STALE. */
  staleness: 7_310_449_003,
} as const;

/**
 * A connection of its own, outside the ORM's pool: session advisory locks belong to a connection,
 * and a restore terminates the pool's connections while this one must survive.
 */
export async function openDedicatedConnection(databaseUrl: string): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'vigil-backup' });
  // An idle connection the server drops must not crash the process; the next query reports it.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A session advisory lock held on a dedicated connection until released. */
export interface HeldLock {
  client: Client;
  release(): Promise<void>;
}

/** Takes a session advisory lock without waiting; null when another session holds it. */
export async function tryLock(databaseUrl: string, key: number): Promise<HeldLock | null> {
  const client = await openDedicatedConnection(databaseUrl);
  try {
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [key]);
    if (!rows[0]?.locked) {
      await client.end();
      return null;
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  let released = false;
  return {
    client,
    async release() {
      if (released) return;
      released = true;
      // Closing the session releases its advisory locks even if the unlock itself fails.
      await client.query('select pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** Double-quotes an identifier for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
