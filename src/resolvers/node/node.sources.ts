import type { Context } from '../../context';
import { AlertSilence } from '../../entities/alert-silence.entity';
import { Alert } from '../../entities/alert.entity';
import { AuditLog } from '../../entities/audit-log.entity';
import { BackupVerification } from '../../entities/backup-verification.entity';
import { Backup } from '../../entities/backup.entity';
import { Finding } from '../../entities/finding.entity';
import { Note } from '../../entities/note.entity';
import { RecommendedAction } from '../../entities/recommended-action.entity';
import { Session } from '../../entities/session.entity';
import { settingsView } from '../settings/settings.view';

/** A type whose objects are rows: its ids are the rows' UUIDs (its table is in `NODE_TABLES`). */
export interface RowNodeSource {
  typename: string;
  /** The objects of these ids, in order (null for a gone one); one statement for all of them. */
  load(ctx: Context, ids: readonly string[]): Promise<(object | null)[]>;
}

/** A type whose objects are not rows: ids `<Type>` (a singleton) or `<Type>:<key>`. */
export interface TypedNodeSource {
  typename: string;
  /** The object of a key (null for a singleton's id); null when there is none. */
  load(ctx: Context, key: string | null): Promise<object | null>;
}

/** Rows by id through the request's EntityManager, in the order of `ids`. */
function rows<T extends { id: string }>(entity: new () => T) {
  return async (ctx: Context, ids: readonly string[]): Promise<(T | null)[]> => {
    const found = await ctx.em.find(entity, { id: { $in: [...ids] } } as never);
    const byId = new Map(found.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  };
}

/**
 * How `node` loads the objects of each type whose objects are rows. An area adding such a type
 * adds it here, its table to `NODE_TABLES` and its rule to `permissions/node-policy.ts`.
 */
export const ROW_NODE_SOURCES: readonly RowNodeSource[] = [
  { typename: 'Investigation', load: (ctx, ids) => ctx.loaders.investigationById.loadMany(ids).then(unwrap) },
  { typename: 'Finding', load: rows(Finding) },
  { typename: 'RecommendedAction', load: rows(RecommendedAction) },
  { typename: 'Note', load: rows(Note) },
  { typename: 'User', load: (ctx, ids) => ctx.loaders.userById.loadMany(ids).then(unwrap) },
  { typename: 'Session', load: rows(Session) },
  { typename: 'Alert', load: rows(Alert) },
  { typename: 'AlertSilence', load: rows(AlertSilence) },
  { typename: 'AuditLog', load: rows(AuditLog) },
  { typename: 'Backup', load: rows(Backup) },
  { typename: 'BackupVerification', load: rows(BackupVerification) },
  { typename: 'SystemSettingsChange', load: (ctx, ids) => ctx.services.settings.changesById(ctx.em, ids) },
];

/** `loadMany` answers an Error in place of a failed key; the first one fails the whole load. */
function unwrap<T>(values: (T | Error)[]): T[] {
  for (const value of values) if (value instanceof Error) throw value;
  return values as T[];
}

/** Every type `node` answers whose ids are typed (see `schema/node.ts`). */
export const TYPED_NODE_SOURCES: readonly TypedNodeSource[] = [
  { typename: 'Health', load: async (ctx, key) => (key === null ? ctx.services.health.check() : null) },
  {
    typename: 'HealthComponent',
    load: async (ctx, key) => (key === null ? null : ((await ctx.services.health.check()).components.find((c) => c.name === key) ?? null)),
  },
  { typename: 'BackupProgress', load: (ctx, key) => (key === null ? Promise.resolve(null) : ctx.services.backups.progressNow(ctx.em, key)) },
  { typename: 'CacheStats', load: async (ctx, key) => (key === null ? ctx.services.cache.stats() : null) },
  { typename: 'DatabaseStats', load: async (ctx, key) => (key === null ? ctx.services.dbStats.stats() : null) },
  { typename: 'SecurityAudit', load: async (ctx, key) => (key === null ? ctx.services.securityAudit.run() : null) },
  { typename: 'AuditChainVerification', load: async (ctx, key) => (key === null ? ctx.services.audit.verifyChain() : null) },
  {
    typename: 'SystemSettings',
    load: async (ctx, key) => (key === null ? settingsView(ctx.services.settings, ctx.services.settings.current()) : null),
  },
];
