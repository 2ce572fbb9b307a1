import { Alert } from '../../entities/alert.entity';
import { BadUserInputError } from '../../errors';
import type { EntityManager } from '../../infra/db';
import { detachedShells, positionalRow, readPositional, readRows, readStatement, SqlConditions, type RowField } from '../../infra/read-model';
import { cursorArgument, decodeCursor, keysetSql, pageLimit, toPage, type Page, type PageWindow } from '../../schema/connection';
import type { AlertListFilter } from './alert.service';
import { isUuid } from '../../infra/ids';
import type { ListDirection } from '../../schema/list-order';

/** An alert as a positional row (see read-model.ts) over the `alert` row `a`. */
const ALERT_FIELDS: readonly RowField[] = [
  { name: 'id', sql: 'a.id', kind: 'text' },
  { name: 'seq', sql: 'a.seq', kind: 'int' },
  { name: 'level', sql: 'a.level', kind: 'text' },
  { name: 'title', sql: 'a.title', kind: 'text' },
  { name: 'message', sql: 'a.message', kind: 'text' },
  { name: 'source', sql: 'a.source', kind: 'text' },
  { name: 'fingerprint', sql: 'a.fingerprint', kind: 'text' },
  { name: 'labels', sql: 'a.labels', kind: 'json' },
  { name: 'status', sql: 'a.status', kind: 'text' },
  { name: 'count', sql: 'a.count', kind: 'int' },
  { name: 'firstSeenAt', sql: 'a.first_seen_at', kind: 'time' },
  { name: 'lastSeenAt', sql: 'a.last_seen_at', kind: 'time' },
  { name: 'acknowledgedById', sql: 'a.acknowledged_by_id', kind: 'text' },
  { name: 'acknowledgedAt', sql: 'a.acknowledged_at', kind: 'time' },
  { name: 'resolvedById', sql: 'a.resolved_by_id', kind: 'text' },
  { name: 'resolvedAt', sql: 'a.resolved_at', kind: 'time' },
  { name: 'resolution', sql: 'a.resolution', kind: 'text' },
  { name: 'escalationLevel', sql: 'a.escalation_level', kind: 'int' },
  { name: 'escalatedAt', sql: 'a.escalated_at', kind: 'time' },
  { name: 'investigationId', sql: 'a.investigation_id', kind: 'text' },
  { name: 'createdById', sql: 'a.created_by_id', kind: 'text' },
];

const alertShell = detachedShells(Alert, ALERT_FIELDS.map((f) => f.name));

/**
 * A page of alerts by first seen time and id (newest first unless `direction` says otherwise), with the total count, in one
 * statement; rows are read-only detached alerts (see read-model.ts).
 */
export async function listAlerts(em: EntityManager, window: PageWindow, filter: AlertListFilter, direction: ListDirection = 'desc'): Promise<Page<Alert>> {
  const c = new SqlConditions();
  if (filter.level) c.add(`a.level = ${c.param(filter.level)}`);
  if (filter.status) c.add(`a.status = ${c.param(filter.status)}`);
  if (filter.source) c.add(`a.source = ${c.param(filter.source)}`);
  if (filter.from) c.add(`a.first_seen_at >= ${c.param(filter.from)}::timestamptz`);
  if (filter.to) c.add(`a.first_seen_at < ${c.param(filter.to)}::timestamptz`);
  const count = `select count(*)::int from alert a ${c.where}`;
  const { order, op } = keysetSql(direction, window);
  const after = window.cursor;
  if (after) {
    const argument = cursorArgument(window);
    const [at, id] = decodeCursor(after, 2, argument);
    const time = new Date(String(at));
    if (typeof at !== 'string' || !isUuid(id) || Number.isNaN(time.getTime())) {
      throw new BadUserInputError(`${argument} is not a cursor this list gave out`, argument);
    }
    c.add(`(a.first_seen_at, a.id) ${op} (${c.param(time)}::timestamptz, ${c.param(id)}::uuid)`);
  }
  const text = `select to_json(${positionalRow(ALERT_FIELDS)}) as item, (${count}) as total
    from alert a ${c.where} order by a.first_seen_at ${order}, a.id ${order} limit ${pageLimit(window.size)}`;
  const rows = await readRows<{ item: (string | null)[]; total: number }>(em, readStatement(text), c.values);
  // No row: nothing matches at all, unless the cursor is past the last one; only then count apart
  // (with the filter's parameters, which come before the cursor's).
  const totalCount = rows.length
    ? rows[0]!.total
    : after
      ? (await readRows<{ n: number }>(em, readStatement(`select (${count}) as n`), c.values.slice(0, -2)))[0]!.n
      : 0;
  const alerts = rows.map((row) => readPositional(ALERT_FIELDS, row.item, alertShell()));
  return toPage(alerts, window, (a) => [a.firstSeenAt.toISOString(), a.id], totalCount);
}
