import type { EntityManager } from './infra/db';

/**
 * The DataLoaders of one request (or one subscription event). Created per request, never at module
 * level, so nothing is cached across viewers. Areas add theirs here.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Loaders {}

export function createLoaders(_em: EntityManager): Loaders {
  return {};
}
