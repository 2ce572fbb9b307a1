import type { VigilServer } from '../../src/server';

/** One audit entry as tests assert on it. */
export interface TestAuditEntry {
  seq: number;
  action: string;
  outcome: 'SUCCESS' | 'DENIED' | 'FAILED';
  actorId: string | null;
  actorEmail: string | null;
  actorRole: string | null;
  resourceType: string | null;
  resourceId: string | null;
  changes: Record<string, unknown> | null;
  reason: string | null;
  requestId: string | null;
  operationName: string | null;
}

/**
 * The audit entries of a server's database, oldest first, read straight from the `audit_log`
 * table (so a test sees exactly what was committed, independent of the API and its permissions).
 * Filters are exact matches; give none to get every entry.
 */
export async function auditEntries(
  server: Pick<VigilServer, 'orm'>,
  filter: { action?: string; resourceId?: string; resourceType?: string; actorId?: string } = {},
): Promise<TestAuditEntry[]> {
  const clauses: string[] = [];
  const params: string[] = [];
  for (const [column, value] of [
    ['action', filter.action],
    ['resource_id', filter.resourceId],
    ['resource_type', filter.resourceType],
    ['actor_id', filter.actorId],
  ] as const) {
    if (value !== undefined) {
      clauses.push(`${column} = ?`);
      params.push(value);
    }
  }
  const rows = await server.orm.em.fork().execute<Record<string, unknown>[]>(
    `select seq, action, outcome, actor_id, actor_email, actor_role, resource_type, resource_id, changes, reason,
       request_id, operation_name
     from audit_log ${clauses.length ? `where ${clauses.join(' and ')}` : ''} order by seq`,
    params,
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    action: r.action as string,
    outcome: r.outcome as TestAuditEntry['outcome'],
    actorId: (r.actor_id as string | null) ?? null,
    actorEmail: (r.actor_email as string | null) ?? null,
    actorRole: (r.actor_role as string | null) ?? null,
    resourceType: (r.resource_type as string | null) ?? null,
    resourceId: (r.resource_id as string | null) ?? null,
    changes: (r.changes as Record<string, unknown> | null) ?? null,
    reason: (r.reason as string | null) ?? null,
    requestId: (r.request_id as string | null) ?? null,
    operationName: (r.operation_name as string | null) ?? null,
  }));
}

/** The newest audit entry with an action (and resource id), or undefined. */
export async function lastAuditEntry(
  server: Pick<VigilServer, 'orm'>,
  filter: { action?: string; resourceId?: string },
): Promise<TestAuditEntry | undefined> {
  return (await auditEntries(server, filter)).at(-1);
}
