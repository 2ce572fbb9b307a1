import type { EntityManager } from '../../infra/db';
import { readRows, readStatement } from '../../infra/read-model';

/**
 * The tables whose UUID primary keys are `Node` ids, by GraphQL type name. UUIDs are random, so an
 * id names a row of at most one of them; {@link loadNodeTypes} finds which. An area adding a
 * `Node` type stored in a table of its own adds the table here.
 */
export const NODE_TABLES: Readonly<Record<string, string>> = {
  Investigation: 'investigation',
  Finding: 'finding',
  RecommendedAction: 'recommended_action',
  Note: 'note',
  User: '"user"',
  Session: 'session',
  Alert: 'alert',
  AlertSilence: 'alert_silence',
  AuditLog: 'audit_log',
  Backup: 'backup',
  BackupVerification: 'backup_verification',
  SystemSettingsChange: 'system_settings_change',
};

let statement: ReturnType<typeof readStatement> | undefined;

/**
 * The type of each id (null for an id no table holds), in one statement whatever the number of
 * ids and tables: a primary-key probe of every table, `union all`. Ids must be UUIDs.
 */
export async function loadNodeTypes(em: EntityManager, ids: readonly string[]): Promise<(string | null)[]> {
  statement ??= readStatement(
    Object.entries(NODE_TABLES)
      .map(([typename, table]) => `select t.id::text as id, '${typename}' as type from ${table} t where t.id = any($1::uuid[])`)
      .join('\nunion all '),
  );
  const rows = await readRows<{ id: string; type: string }>(em, statement, [ids]);
  const byId = new Map(rows.map((row) => [row.id, row.type]));
  return ids.map((id) => byId.get(id) ?? null);
}
