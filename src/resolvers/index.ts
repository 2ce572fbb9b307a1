import type { NonEmptyArray } from 'type-graphql';
import { AlertResolver } from './alerts/alert.resolver';
import { AuditResolver } from './audit/audit.resolver';
import { AuthResolver } from './auth/auth.resolver';
import { BackupResolver } from './backups/backup.resolver';
import { HealthResolver } from './health/health.resolver';
import { FindingResolver } from './investigations/finding.resolver';
import { InvestigationResolver } from './investigations/investigation.resolver';
import { NoteResolver } from './investigations/note.resolver';
import { RecommendedActionResolver } from './investigations/recommended-action.resolver';
import { ObservabilityResolver } from './observability/observability.resolver';
import { SettingsChangeResolver, SettingsResolver } from './settings/settings.resolver';
import { UserResolver } from './users/user.resolver';

/** Every resolver class of the schema; an area adds its own. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [HealthResolver, ObservabilityResolver, AuthResolver, UserResolver, InvestigationResolver, FindingResolver, RecommendedActionResolver, NoteResolver, BackupResolver, AuditResolver, AlertResolver, SettingsResolver, SettingsChangeResolver];
