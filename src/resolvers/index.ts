import type { NonEmptyArray } from 'type-graphql';
import { AlertResolver } from './alerts/alert.resolver';
import { AuditChainVerification } from './audit/audit.types';
import { AuditLogResolver, AuditResolver } from './audit/audit.resolver';
import { AuthResolver } from './auth/auth.resolver';
import { BackupProgressResolver, BackupResolver } from './backups/backup.resolver';
import { HealthComponentResolver, HealthResolver } from './health/health.resolver';
import { FindingResolver } from './investigations/finding.resolver';
import { InvestigationResolver } from './investigations/investigation.resolver';
import { NoteResolver } from './investigations/note.resolver';
import { RecommendedActionResolver } from './investigations/recommended-action.resolver';
import { NodeResolver } from './node/node.resolver';
import { singletonIdResolver } from './node/singleton-id.resolver';
import { ObservabilityResolver } from './observability/observability.resolver';
import { CacheStats, DatabaseStats, SecurityAudit } from './observability/observability.types';
import { SettingsChangeResolver, SettingsResolver } from './settings/settings.resolver';
import { UserResolver } from './users/user.resolver';

/** Every resolver class of the schema; an area adds its own. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [
  NodeResolver,
  HealthResolver,
  HealthComponentResolver,
  ObservabilityResolver,
  singletonIdResolver(SecurityAudit, 'SecurityAudit'),
  singletonIdResolver(CacheStats, 'CacheStats'),
  singletonIdResolver(DatabaseStats, 'DatabaseStats'),
  AuthResolver,
  UserResolver,
  InvestigationResolver,
  FindingResolver,
  RecommendedActionResolver,
  NoteResolver,
  BackupResolver,
  BackupProgressResolver,
  AuditResolver,
  AuditLogResolver,
  singletonIdResolver(AuditChainVerification, 'AuditChainVerification'),
  AlertResolver,
  SettingsResolver,
  SettingsChangeResolver,
];
