import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123000000_foundation } from './Migration20261123000000_foundation';

/**
 * Every migration in the order it runs; listed explicitly so the same list works from TypeScript
 * sources and compiled output. An area appends its own.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261123000000_foundation', class: Migration20261123000000_foundation },
];
