import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import type { RequestMeta } from '../../context';

/** What a backup operation record is about. */
export type OperationKind = 'BACKUP' | 'VERIFY' | 'RESTORE';

/** A `backup_operation` row, as the reconciler reads it. */
export interface OperationRow {
  id: string;
  kind: OperationKind;
  backup_id: string | null;
  instance_id: string;
  scratch_database: string | null;
  meta: RequestMeta;
  detail: Record<string, unknown>;
  started_at: Date;
}

/**
 * The start record of every backup, verification and restore, written before the work begins and
 * closed after it. Each record names the PostgreSQL session that owns it (the operation's own
 * dedicated connection): PostgreSQL ends that session when the instance dies, whatever kills it,
 * so "RUNNING and its owner session is gone" means "interrupted" on every instance alike.
 */
export class OperationLedger {
  constructor(private readonly instanceId: string) {}

  /** Records a RUNNING operation owned by `client`'s session; returns its id. */
  async begin(
    client: Client,
    op: { kind: OperationKind; backupId: string | null; meta: RequestMeta; scratchDatabase?: string | null; detail?: Record<string, unknown> },
  ): Promise<string> {
    const id = randomUUID();
    await client.query(
      `insert into backup_operation (id, kind, backup_id, status, instance_id, owner_pid, owner_backend_start, scratch_database, meta, detail)
       select $1, $2, $3, 'RUNNING', $4, pid, backend_start, $5, $6, $7 from pg_stat_activity where pid = pg_backend_pid()`,
      [id, op.kind, op.backupId, this.instanceId, op.scratchDatabase ?? null, JSON.stringify(op.meta), JSON.stringify(op.detail ?? {})],
    );
    return id;
  }

  /** Adds to a running operation's detail (e.g. what a restore must compare afterwards). */
  async note(client: Client, id: string, detail: Record<string, unknown>): Promise<void> {
    await client.query(`update backup_operation set detail = detail || $2::jsonb where id = $1`, [id, JSON.stringify(detail)]);
  }

  /** Closes an operation; false when it was no longer RUNNING (another instance reconciled it). */
  async finish(client: Pick<Client, 'query'>, id: string, status: 'SUCCEEDED' | 'FAILED', error: string | null = null): Promise<boolean> {
    const { rowCount } = await client.query(
      `update backup_operation set status = $2, finished_at = now(), error = $3 where id = $1 and status = 'RUNNING'`,
      [id, status, error],
    );
    return (rowCount ?? 0) > 0;
  }
}

/** RUNNING operations whose owner session no longer exists (their instance died). */
export const DEAD_OPERATIONS_SQL = `
  select o.id, o.kind, o.backup_id, o.instance_id, o.scratch_database, o.meta, o.detail, o.started_at
  from backup_operation o
  where o.status = 'RUNNING'
    and not exists (select 1 from pg_stat_activity a where a.pid = o.owner_pid and a.backend_start = o.owner_backend_start)
  order by o.started_at`;
