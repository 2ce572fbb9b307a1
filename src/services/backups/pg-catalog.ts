import type { Client } from 'pg';
import { quoteIdent } from './backup-connection';

/** Which server and database a connection reaches, as a manifest records it. */
export interface ServerIdentity {
  version: string;
  versionNum: number;
  database: string;
  systemIdentifier: string | null;
}

/** The server version, the database name and (when the role may read it) the cluster's system identifier. */
export async function serverIdentity(client: Client): Promise<ServerIdentity> {
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
export async function countRows(client: Client, exclude: readonly string[]): Promise<Record<string, number>> {
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

/** The last applied migration, or null on a database without migrations. */
export async function currentSchemaVersion(client: Client): Promise<string | null> {
  const { rows: exists } = await client.query(`select 1 from pg_class where relname = 'mikro_orm_migrations' and relkind = 'r'`);
  if (!exists.length) return null;
  const { rows } = await client.query<{ name: string }>('select name from mikro_orm_migrations order by id desc limit 1');
  return rows[0]?.name ?? null;
}

/**
 * The identity of every user table (`schema.table:oid`, sorted), `exclude` left out. A restore
 * drops and recreates the tables it restores, so their oids change exactly when a restore
 * committed: comparing fingerprints tells "rolled back, untouched" from "applied".
 */
export async function tableFingerprint(client: Client, exclude: readonly string[]): Promise<string> {
  const { rows } = await client.query<{ key: string; oid: string }>(
    `select n.nspname || '.' || c.relname as key, c.oid::text as oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
     order by 1`,
  );
  return rows
    .filter((r) => !exclude.includes(r.key))
    .map((r) => `${r.key}:${r.oid}`)
    .join(',');
}
