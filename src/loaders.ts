import DataLoader from 'dataloader';
import { User } from './entities/user.entity';
import type { EntityManager } from './infra/db';
import { detached, pgTime } from './infra/read-model';
import { createInvestigationLoaders, type InvestigationLoaders } from './services/investigations/investigation.loaders';
import { createBackupLoaders, type BackupLoaders } from './services/backups/backup.loaders';

/**
 * The DataLoaders of one request (or one subscription event). Created per request, never at module
 * level, so nothing is cached across viewers. Areas add theirs here.
 */
export interface Loaders extends InvestigationLoaders, BackupLoaders {
  /** Users by id (null for an unknown id), one statement per tick. */
  userById: DataLoader<string, User | null>;
}

/**
 * Users as shown in responses, read-only and without their secrets (no password hash, no MFA
 * secret): one statement, detached instances rather than ORM-managed ones (see read-model.ts).
 */
async function loadUsers(em: EntityManager, ids: readonly string[]): Promise<(User | null)[]> {
  const { rows } = await em
    .getKnex()
    .raw<{ rows: Record<string, unknown>[] }>(
      'select id, email, name, role, disabled, mfa_enabled, created_at, updated_at from "user" where id = any(?::uuid[])',
      [ids as string[]],
    );
  const byId = new Map(
    rows.map((row) => [
      row.id as string,
      detached(User, {
        id: row.id as string,
        email: row.email as string,
        name: row.name as string,
        role: row.role as User['role'],
        disabled: Boolean(row.disabled),
        mfaEnabled: Boolean(row.mfa_enabled),
        createdAt: pgTime(row.created_at),
        updatedAt: pgTime(row.updated_at),
      }),
    ]),
  );
  return ids.map((id) => byId.get(id) ?? null);
}

export function createLoaders(em: EntityManager): Loaders {
  return {
    userById: new DataLoader((ids) => loadUsers(em, ids)),
    ...createInvestigationLoaders(em),
    ...createBackupLoaders(em),
  };
}
