import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123000000_foundation } from './Migration20261123000000_foundation';
import { Migration20261123000500_audit } from './Migration20261123000500_audit';
import { Migration20261123001000_identity } from './Migration20261123001000_identity';
import { Migration20261123003000_investigations } from './Migration20261123003000_investigations';
import { Migration20261123004000_alerts } from './Migration20261123004000_alerts';
import { Migration20261123006000_backups } from './Migration20261123006000_backups';
import { Migration20261206110000_identity_hardening } from './Migration20261206110000_identity_hardening';
import { Migration20261206120000_backup_operations } from './Migration20261206120000_backup_operations';
import { Migration20261206130000_settings } from './Migration20261206130000_settings';

/**
 * Every migration in the order it runs; listed explicitly so the same list works from TypeScript
 * sources and compiled output. An area appends its own.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261123000000_foundation', class: Migration20261123000000_foundation },
  { name: 'Migration20261123000500_audit', class: Migration20261123000500_audit },
  { name: 'Migration20261123001000_identity', class: Migration20261123001000_identity },
  { name: 'Migration20261123003000_investigations', class: Migration20261123003000_investigations },
  { name: 'Migration20261123004000_alerts', class: Migration20261123004000_alerts },
  { name: 'Migration20261123006000_backups', class: Migration20261123006000_backups },
  { name: 'Migration20261206110000_identity_hardening', class: Migration20261206110000_identity_hardening },
  { name: 'Migration20261206120000_backup_operations', class: Migration20261206120000_backup_operations },
  { name: 'Migration20261206130000_settings', class: Migration20261206130000_settings },
];
