import type { EntityManager } from '../../infra/db';
import type { SettingValue } from './settings.catalog';

/** The maintenance switch SUPER_ADMIN turns on and off. */
export interface MaintenanceSwitch {
  enabled: boolean;
  message: string | null;
  since: Date | null;
  reason: string | null;
}

/** A lease that keeps maintenance on for a holder (a restore) while it is renewed. */
export interface MaintenanceHoldRow {
  id: string;
  reason: string;
  message: string | null;
  since: Date;
  expiresAt: Date;
  instanceId: string;
}

/** The stored settings as one read sees them. */
export interface StoredSettings {
  version: number;
  stored: Record<string, SettingValue>;
  maintenance: MaintenanceSwitch;
  /** Leases not yet expired, oldest first. */
  holds: MaintenanceHoldRow[];
  updatedAt: Date;
  updatedBy: string | null;
}

/** One change as the history keeps it. */
export interface SettingsChangeRow {
  id: string;
  version: number;
  at: Date;
  actorId: string | null;
  actorEmail: string | null;
  reason: string | null;
  changes: SettingChangeEntry[];
}

/** One setting's change: its effective value and source before and after. */
export interface SettingChangeEntry {
  key: string;
  before: SettingValue;
  after: SettingValue;
  beforeSource: string;
  afterSource: string;
}

/** What an instance reports about itself (see `SettingsService.awaitWritesStopped`). */
export interface InstanceReport {
  instanceId: string;
  appliedVersion: number;
  appliedSignature: string;
  writesStoppedSignature: string | null;
  writesInFlight: number;
  seenAt: Date;
}

interface StateRow {
  version: number;
  stored: Record<string, SettingValue> | string;
  maintenance_enabled: boolean;
  maintenance_message: string | null;
  maintenance_since: Date | string | null;
  maintenance_reason: string | null;
  updated_at: Date | string;
  updated_by: string | null;
  holds: { id: string; reason: string; message: string | null; since: string; expires_at: string; instance_id: string }[] | null;
}

const date = (value: Date | string) => (value instanceof Date ? value : new Date(value));

const STATE_SQL = `select s.version, s.stored, s.maintenance_enabled, s.maintenance_message, s.maintenance_since, s.maintenance_reason,
    s.updated_at, s.updated_by,
    (select json_agg(json_build_object('id', h.id, 'reason', h.reason, 'message', h.message, 'since', h.since,
                                       'expires_at', h.expires_at, 'instance_id', h.instance_id) order by h.since, h.id)
       from maintenance_hold h where h.expires_at > now()) as holds
  from system_settings_state s where s.id = 1`;

function toStored(row: StateRow): StoredSettings {
  return {
    version: row.version,
    stored: typeof row.stored === 'string' ? (JSON.parse(row.stored) as Record<string, SettingValue>) : row.stored,
    maintenance: {
      enabled: row.maintenance_enabled,
      message: row.maintenance_message,
      since: row.maintenance_since ? date(row.maintenance_since) : null,
      reason: row.maintenance_reason,
    },
    holds: (row.holds ?? []).map((h) => ({
      id: h.id,
      reason: h.reason,
      message: h.message,
      since: new Date(h.since),
      expiresAt: new Date(h.expires_at),
      instanceId: h.instance_id,
    })),
    updatedAt: date(row.updated_at),
    updatedBy: row.updated_by,
  };
}

/** Reads the stored settings and the live maintenance leases in one statement. */
export async function readSettings(em: EntityManager): Promise<StoredSettings> {
  const [row] = await em.execute<StateRow[]>(STATE_SQL);
  if (!row) throw new Error('system_settings_state has no row: migrations have not run');
  return toStored(row);
}

/** Reads the stored settings inside a transaction and locks the row until it ends. */
export async function lockSettings(tx: EntityManager): Promise<StoredSettings> {
  await tx.execute('select 1 from system_settings_state where id = 1 for update');
  return readSettings(tx);
}

/** Writes a new version (the caller holds the row lock); returns the new version. */
export async function writeSettings(
  tx: EntityManager,
  data: { stored: Record<string, SettingValue>; maintenance: MaintenanceSwitch; updatedBy: string | null },
): Promise<{ version: number; updatedAt: Date }> {
  const [row] = await tx.execute<{ version: number; updated_at: Date | string }[]>(
    `update system_settings_state
        set version = version + 1, stored = ?::jsonb, maintenance_enabled = ?, maintenance_message = ?,
            maintenance_since = ?, maintenance_reason = ?, updated_at = now(), updated_by = ?
      where id = 1
      returning version, updated_at`,
    [
      JSON.stringify(data.stored),
      data.maintenance.enabled,
      data.maintenance.message,
      data.maintenance.since?.toISOString() ?? null,
      data.maintenance.reason,
      data.updatedBy,
    ],
  );
  return { version: row!.version, updatedAt: date(row!.updated_at) };
}

/** Bumps the version without other changes (a maintenance lease began or ended). */
export async function bumpVersion(tx: EntityManager, updatedBy: string | null): Promise<{ version: number; updatedAt: Date }> {
  const [row] = await tx.execute<{ version: number; updated_at: Date | string }[]>(
    'update system_settings_state set version = version + 1, updated_at = now(), updated_by = ? where id = 1 returning version, updated_at',
    [updatedBy],
  );
  return { version: row!.version, updatedAt: date(row!.updated_at) };
}

/** Appends a change to the history. */
export async function insertChange(tx: EntityManager, change: SettingsChangeRow): Promise<void> {
  await tx.execute(
    'insert into system_settings_change (id, version, at, actor_id, actor_email, reason, changes) values (?, ?, ?, ?, ?, ?, ?::jsonb)',
    [change.id, change.version, change.at.toISOString(), change.actorId, change.actorEmail, change.reason, JSON.stringify(change.changes)],
    'run',
  );
}

interface ChangeRow {
  id: string;
  version: number;
  at: Date | string;
  actor_id: string | null;
  actor_email: string | null;
  reason: string | null;
  changes: SettingChangeEntry[] | string;
}

/**
 * History rows made within `at` (from inclusive, to exclusive) past the cursor `(at, id)` in keyset
 * order: `order` and `op` come from `keysetSql` (newest first forward, oldest first when walking
 * backward); `limit` rows at most. Also the total within `at`.
 */
export async function listChanges(
  em: EntityManager,
  walk: { order: 'asc' | 'desc'; op: '<' | '>'; limit: number },
  cursor: { at: string; id: string } | null,
  at: { from: Date | null; to: Date | null } = { from: null, to: null },
): Promise<{ rows: SettingsChangeRow[]; total: number }> {
  const filter: string[] = [];
  const filterValues: unknown[] = [];
  if (at.from) {
    filter.push('at >= ?::timestamptz');
    filterValues.push(at.from.toISOString());
  }
  if (at.to) {
    filter.push('at < ?::timestamptz');
    filterValues.push(at.to.toISOString());
  }
  const conditions = cursor ? [...filter, `(at, id) ${walk.op} (?::timestamptz, ?::uuid)`] : filter;
  const whereOf = (parts: string[]) => (parts.length ? `where ${parts.join(' and ')}` : '');
  const rows = walk.limit
    ? await em.execute<ChangeRow[]>(
        `select id, version, at, actor_id, actor_email, reason, changes from system_settings_change ${whereOf(conditions)}
          order by at ${walk.order}, id ${walk.order} limit ${Number(walk.limit)}`,
        cursor ? [...filterValues, cursor.at, cursor.id] : filterValues,
      )
    : [];
  const [count] = await em.execute<{ n: number }[]>(`select count(*)::int as n from system_settings_change ${whereOf(filter)}`, filterValues);
  return { rows: rows.map(toChange), total: count?.n ?? 0 };
}

/** History rows by id (for `node`), in the order of `ids`; null for an unknown one. */
export async function changesById(em: EntityManager, ids: readonly string[]): Promise<(SettingsChangeRow | null)[]> {
  if (!ids.length) return [];
  const rows = await em.execute<ChangeRow[]>(
    `select id, version, at, actor_id, actor_email, reason, changes from system_settings_change where id in (${ids.map(() => '?::uuid').join(', ')})`,
    [...ids],
  );
  const byId = new Map(rows.map((r) => [r.id, toChange(r)]));
  return ids.map((id) => byId.get(id) ?? null);
}

function toChange(r: ChangeRow): SettingsChangeRow {
  return {
    id: r.id,
    version: r.version,
    at: date(r.at),
    actorId: r.actor_id,
    actorEmail: r.actor_email,
    reason: r.reason,
    changes: typeof r.changes === 'string' ? (JSON.parse(r.changes) as SettingChangeEntry[]) : r.changes,
  };
}

/** Creates or renews a maintenance lease (re-creating it if a restore replaced the table's rows). */
export async function upsertHold(em: EntityManager, hold: Omit<MaintenanceHoldRow, 'expiresAt'>, leaseMs: number): Promise<void> {
  await em.execute(
    `insert into maintenance_hold (id, reason, message, since, expires_at, instance_id)
     values (?, ?, ?, ?, now() + (? * interval '1 millisecond'), ?)
     on conflict (id) do update set expires_at = excluded.expires_at`,
    [hold.id, hold.reason, hold.message, hold.since.toISOString(), leaseMs, hold.instanceId],
    'run',
  );
}

/** Ends a maintenance lease; true when it was there. */
export async function deleteHold(em: EntityManager, id: string): Promise<boolean> {
  const rows = await em.execute<{ id: string }[]>('delete from maintenance_hold where id = ? returning id', [id]);
  return rows.length > 0;
}

/** Records what this instance applies (its heartbeat). */
export async function reportInstance(em: EntityManager, report: Omit<InstanceReport, 'seenAt'>): Promise<void> {
  await em.execute(
    `insert into settings_instance (instance_id, applied_version, applied_signature, writes_stopped_signature, writes_in_flight, seen_at)
     values (?, ?, ?, ?, ?, now())
     on conflict (instance_id) do update set applied_version = excluded.applied_version, applied_signature = excluded.applied_signature,
       writes_stopped_signature = excluded.writes_stopped_signature, writes_in_flight = excluded.writes_in_flight, seen_at = now()`,
    [report.instanceId, report.appliedVersion, report.appliedSignature, report.writesStoppedSignature, report.writesInFlight],
    'run',
  );
}

/** Removes an instance's report (it stops) and reports nobody has renewed for a day. */
export async function forgetInstance(em: EntityManager, instanceId: string): Promise<void> {
  await em.execute(`delete from settings_instance where instance_id = ? or seen_at < now() - interval '1 day'`, [instanceId], 'run');
}

/** Instances that reported within `withinMs`. */
export async function liveInstances(em: EntityManager, withinMs: number): Promise<InstanceReport[]> {
  const rows = await em.execute<
    { instance_id: string; applied_version: number; applied_signature: string; writes_stopped_signature: string | null; writes_in_flight: number; seen_at: Date | string }[]
  >(
    `select instance_id, applied_version, applied_signature, writes_stopped_signature, writes_in_flight, seen_at
       from settings_instance where seen_at > now() - (? * interval '1 millisecond') order by instance_id`,
    [withinMs],
  );
  return rows.map((r) => ({
    instanceId: r.instance_id,
    appliedVersion: r.applied_version,
    appliedSignature: r.applied_signature,
    writesStoppedSignature: r.writes_stopped_signature,
    writesInFlight: r.writes_in_flight,
    seenAt: date(r.seen_at),
  }));
}
