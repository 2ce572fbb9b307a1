import { PrimedLoader } from './infra/primed-loader';
import { User } from './entities/user.entity';
import type { EntityManager } from './infra/db';
import { loadUsers } from './services/users/user.queries';
import { loadNodeTypes } from './services/nodes/node-lookup';
import { createInvestigationLoaders, type InvestigationLoaders } from './services/investigations/investigation.loaders';
import { createBackupLoaders, type BackupLoaders } from './services/backups/backup.loaders';

/**
 * The DataLoaders of one request (or one subscription event). Created per request, never at module
 * level, so nothing is cached across viewers. Areas add theirs here.
 */
export interface Loaders extends InvestigationLoaders, BackupLoaders {
  /** Users by id as shown in responses (null for an unknown id), one statement per tick. */
  userById: PrimedLoader<string, User | null>;
  /** The `Node` type of row ids (lower-case UUIDs; null for an id no table holds), one statement per tick. */
  nodeTypeById: PrimedLoader<string, string | null>;
}

/** The loaders of one request; `em` gives the request's EntityManager (made on first use). */
export function createLoaders(em: () => EntityManager): Loaders {
  return {
    userById: new PrimedLoader((ids) => loadUsers(em(), ids)),
    nodeTypeById: new PrimedLoader((ids) => loadNodeTypes(em(), ids)),
    ...createInvestigationLoaders(em),
    ...createBackupLoaders(em),
  };
}
