import { Field, InputType, Int } from 'type-graphql';
import { AlertLevel } from '../../entities/alert.entity';
import { Role } from '../../permissions/roles';
import { DateTimeRange } from '../../schema/time-range';

// Every input field is optional: absent leaves the setting as it is; null drops the stored value so
// the boot value (environment, else default) applies again.

@InputType({ description: 'Alert settings to change; absent fields stay, null returns a field to its boot value' })
export class AlertSettingsInput {
  @Field(() => Int, { nullable: true, description: 'Seconds within which a repeat of a fingerprint counts instead of creating an alert' })
  cooldownSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Seconds an ERROR or CRITICAL alert may stay unacknowledged before it escalates' })
  escalationSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Permission denials of one actor within the window that raise an alert' })
  denialsThreshold?: number | null;

  @Field(() => Int, { nullable: true, description: 'The window, in seconds, of the denial threshold' })
  denialsWindowSeconds?: number | null;

  @Field(() => AlertLevel, { nullable: true, description: 'The lowest level written to the log channel' })
  logMinLevel?: AlertLevel | null;

  @Field(() => AlertLevel, { nullable: true, description: 'The lowest level sent to the webhook channel' })
  webhookMinLevel?: AlertLevel | null;

  @Field(() => AlertLevel, { nullable: true, description: 'The lowest level sent to Slack' })
  slackMinLevel?: AlertLevel | null;

  @Field(() => AlertLevel, { nullable: true, description: 'The lowest level sent by email' })
  emailMinLevel?: AlertLevel | null;
}

@InputType({ description: 'The request limit of one role' })
export class RoleRequestLimitInput {
  @Field(() => Role, { description: 'The role' })
  role!: Role;

  @Field(() => Int, { nullable: true, description: 'Requests per window for each user of the role; null returns it to its boot value' })
  limit?: number | null;
}

@InputType({ description: 'Protection settings to change; absent fields stay, null returns a field to its boot value' })
export class ProtectionSettingsInput {
  @Field(() => Int, { nullable: true, description: 'The window, in seconds, of the request limits' })
  requestWindowSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Requests per window per client IP without a token' })
  anonymousRequestLimit?: number | null;

  @Field(() => Int, { nullable: true, description: 'Requests per window per signed-in user' })
  userRequestLimit?: number | null;

  @Field(() => [RoleRequestLimitInput], { nullable: true, description: 'Request limits of the roles listed (others stay)' })
  roleRequestLimits?: RoleRequestLimitInput[] | null;

  @Field(() => Int, { nullable: true, description: 'Sign-in attempts per IP and email within the sign-in window' })
  signInLimit?: number | null;

  @Field(() => Int, { nullable: true, description: 'The window, in seconds, of the sign-in limit' })
  signInWindowSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'The highest cost one operation may have' })
  costLimit?: number | null;

  @Field(() => Int, { nullable: true, description: 'Operation cost a user (or anonymous IP) may spend per budget window' })
  costBudget?: number | null;

  @Field(() => Int, { nullable: true, description: 'The window, in seconds, of the cost budget' })
  costBudgetWindowSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Subscribe messages per request window per websocket connection' })
  wsSubscribeLimit?: number | null;

  @Field(() => Int, { nullable: true, description: 'Events a websocket subscription may have waiting before it is closed as too slow' })
  wsMaxQueue?: number | null;

  @Field(() => Int, { nullable: true, description: 'Open websocket connections per client IP on one instance' })
  wsMaxConnectionsPerIp?: number | null;

  @Field(() => Int, { nullable: true, description: 'Open signed-in websocket connections per user on one instance' })
  wsMaxConnectionsPerUser?: number | null;

  @Field(() => Int, { nullable: true, description: 'Live operations per websocket connection' })
  wsMaxSubscriptionsPerConnection?: number | null;
}

@InputType({ description: 'Whether members of one role must have a second factor' })
export class RoleMfaInput {
  @Field(() => Role, { description: 'The role' })
  role!: Role;

  @Field(() => Boolean, { nullable: true, description: 'True: a second factor is required; null returns it to its boot value' })
  required?: boolean | null;
}

@InputType({ description: 'Identity settings to change; absent fields stay, null returns a field to its boot value' })
export class IdentitySettingsInput {
  @Field(() => Int, { nullable: true, description: 'Failed sign-ins within the window that lock an account' })
  lockoutThreshold?: number | null;

  @Field(() => Int, { nullable: true, description: 'The window, in seconds, in which failed sign-ins are counted' })
  lockoutWindowSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Seconds an account stays locked' })
  lockoutDurationSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Seconds of inactivity after which a session ends' })
  sessionIdleTimeoutSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Seconds after sign-in at which a session ends' })
  sessionMaxLifetimeSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Sessions one user may have at once' })
  maxSessionsPerUser?: number | null;

  @Field(() => [RoleMfaInput], { nullable: true, description: 'Second-factor requirements of the roles listed (others stay)' })
  mfaRequired?: RoleMfaInput[] | null;
}

@InputType({ description: 'Retention and backup settings to change; absent fields stay, null returns a field to its boot value' })
export class RetentionSettingsInput {
  @Field(() => Int, { nullable: true, description: 'Days audit entries are kept; 0 keeps them forever' })
  auditRetentionDays?: number | null;

  @Field(() => String, { nullable: true, description: 'When scheduled backups run: a cron expression in UTC, or `off`' })
  backupSchedule?: string | null;

  @Field(() => Int, { nullable: true, description: 'The newest successful backups always kept; 0: no count rule' })
  backupKeepLast?: number | null;

  @Field(() => Int, { nullable: true, description: 'Days every backup is kept; 0: no age rule' })
  backupKeepDays?: number | null;

  @Field(() => String, { nullable: true, description: 'When restore drills run: a cron expression in UTC, or `off`' })
  drillSchedule?: string | null;

  @Field(() => Int, { nullable: true, description: 'Hours without a successful backup after which backups read as stale' })
  backupMaxAgeHours?: number | null;
}

@InputType({ description: 'The maintenance switch' })
export class MaintenanceInput {
  @Field(() => Boolean, { nullable: true, description: 'True turns maintenance on for every instance; false turns the switch off' })
  enabled?: boolean | null;

  @Field(() => String, { nullable: true, description: 'What refused writes answer with (at most 500 characters); null clears it' })
  message?: string | null;
}

@InputType({ description: 'Settings to change in one new version; absent groups and fields stay as they are' })
export class SystemSettingsInput {
  @Field(() => AlertSettingsInput, { nullable: true, description: 'Alert settings' })
  alerts?: AlertSettingsInput | null;

  @Field(() => ProtectionSettingsInput, { nullable: true, description: 'Request limits, cost limits and websocket budgets' })
  protection?: ProtectionSettingsInput | null;

  @Field(() => IdentitySettingsInput, { nullable: true, description: 'Lockout, sessions and second-factor requirements' })
  identity?: IdentitySettingsInput | null;

  @Field(() => RetentionSettingsInput, { nullable: true, description: 'Audit retention, backups and drills' })
  retention?: RetentionSettingsInput | null;

  @Field(() => MaintenanceInput, { nullable: true, description: 'The maintenance switch' })
  maintenance?: MaintenanceInput | null;
}

@InputType({ description: 'Narrows `systemSettingsHistory`; all given conditions must hold' })
export class SystemSettingsChangeFilter {
  @Field(() => DateTimeRange, { nullable: true, description: 'Changes made within this range' })
  at?: DateTimeRange | null;
}
