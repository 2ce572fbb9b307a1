import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AlertLevel } from '../../entities/alert.entity';
import { Role } from '../../permissions/roles';
import { ConnectionType } from '../../schema/connection';
import { Node } from '../../schema/node';
import { JSONScalar } from '../../schema/scalars';
import { SettingSource } from '../../services/settings/settings.catalog';

registerEnumType(SettingSource, {
  name: 'SettingSource',
  description: 'Where an effective setting value comes from',
  valuesConfig: {
    DEFAULT: { description: 'The built-in default: neither the environment nor a stored value sets it' },
    ENVIRONMENT: { description: 'The environment variable set at boot' },
    STORED: { description: 'A value stored through updateSystemSettings; it overrides the environment on every instance' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'An integer setting: the value in force, where it comes from, and what it may be' })
export class IntSetting {
  @Field(() => Int, { description: 'The value every instance applies' })
  effective!: number;

  @Field(() => SettingSource, { description: 'Where the effective value comes from' })
  source!: SettingSource;

  @Field(() => Int, { description: 'The value without a stored override (environment, else built-in default)' })
  defaultValue!: number;

  @Field(() => Int, { description: 'The smallest value allowed' })
  min!: number;

  @Field(() => Int, { description: 'The largest value allowed' })
  max!: number;

  @Field({ description: 'The environment variable that gives the boot value' })
  variable!: string;
}

@ObjectType({ simpleResolvers: true, description: 'An alert-level setting (a channel delivers alerts at or above it)' })
export class AlertLevelSetting {
  @Field(() => AlertLevel, { description: 'The level every instance applies' })
  effective!: AlertLevel;

  @Field(() => SettingSource, { description: 'Where the effective value comes from' })
  source!: SettingSource;

  @Field(() => AlertLevel, { description: 'The value without a stored override' })
  defaultValue!: AlertLevel;

  @Field({ description: 'The environment variable that gives the boot value' })
  variable!: string;
}

@ObjectType({ simpleResolvers: true, description: 'A schedule: a cron expression in UTC, or `off`' })
export class ScheduleSetting {
  @Field({ description: 'The schedule every instance applies (cron expression in UTC, or `off`)' })
  effective!: string;

  @Field(() => SettingSource, { description: 'Where the effective value comes from' })
  source!: SettingSource;

  @Field({ description: 'The value without a stored override' })
  defaultValue!: string;

  @Field({ description: 'The environment variable that gives the boot value' })
  variable!: string;
}

@ObjectType({ simpleResolvers: true, description: 'The request limit of one role' })
export class RoleRequestLimitSetting {
  @Field(() => Role, { description: 'The role the limit applies to' })
  role!: Role;

  @Field(() => Int, { nullable: true, description: 'Requests per window for each user of this role; null: the user limit applies' })
  effective!: number | null;

  @Field(() => SettingSource, { description: 'Where the effective value comes from' })
  source!: SettingSource;

  @Field(() => Int, { nullable: true, description: 'The value without a stored override; null: the user limit' })
  defaultValue!: number | null;

  @Field(() => Int, { description: 'The smallest value allowed' })
  min!: number;

  @Field(() => Int, { description: 'The largest value allowed' })
  max!: number;

  @Field({ description: 'The environment variable that gives the boot value' })
  variable!: string;
}

@ObjectType({ simpleResolvers: true, description: 'Whether members of one role must have a second factor' })
export class RoleMfaSetting {
  @Field(() => Role, { description: 'The role the requirement applies to' })
  role!: Role;

  @Field({ description: 'True: members of this role must have a second factor' })
  effective!: boolean;

  @Field(() => SettingSource, { description: 'Where the effective value comes from' })
  source!: SettingSource;

  @Field({ description: 'The value without a stored override' })
  defaultValue!: boolean;

  @Field({ description: 'The environment variable that gives the boot value' })
  variable!: string;
}

@ObjectType({ simpleResolvers: true, description: 'How alerts are deduplicated, escalated, raised from denials and delivered' })
export class AlertSettings {
  @Field(() => IntSetting, { description: 'Seconds within which a repeat of a fingerprint counts instead of creating an alert' })
  cooldownSeconds!: IntSetting;

  @Field(() => IntSetting, { description: 'Seconds an ERROR or CRITICAL alert may stay unacknowledged before it escalates' })
  escalationSeconds!: IntSetting;

  @Field(() => IntSetting, { description: 'Permission denials of one actor within the window that raise an alert' })
  denialsThreshold!: IntSetting;

  @Field(() => IntSetting, { description: 'The window, in seconds, of the denial threshold' })
  denialsWindowSeconds!: IntSetting;

  @Field(() => AlertLevelSetting, { description: 'The lowest level written to the log channel' })
  logMinLevel!: AlertLevelSetting;

  @Field(() => AlertLevelSetting, { description: 'The lowest level sent to the webhook channel' })
  webhookMinLevel!: AlertLevelSetting;

  @Field(() => AlertLevelSetting, { description: 'The lowest level sent to Slack' })
  slackMinLevel!: AlertLevelSetting;

  @Field(() => AlertLevelSetting, { description: 'The lowest level sent by email' })
  emailMinLevel!: AlertLevelSetting;
}

@ObjectType({ simpleResolvers: true, description: 'Request limits, operation cost limits and websocket budgets' })
export class ProtectionSettings {
  @Field(() => IntSetting, { description: 'The window, in seconds, of the request limits' })
  requestWindowSeconds!: IntSetting;

  @Field(() => IntSetting, { description: 'Requests per window per client IP without a token' })
  anonymousRequestLimit!: IntSetting;

  @Field(() => IntSetting, { description: 'Requests per window per signed-in user (roles without their own limit)' })
  userRequestLimit!: IntSetting;

  @Field(() => [RoleRequestLimitSetting], { description: 'Request limits per role, one entry per role' })
  roleRequestLimits!: RoleRequestLimitSetting[];

  @Field(() => IntSetting, { description: 'Sign-in attempts per IP and email within the sign-in window' })
  signInLimit!: IntSetting;

  @Field(() => IntSetting, { description: 'The window, in seconds, of the sign-in limit' })
  signInWindowSeconds!: IntSetting;

  @Field(() => IntSetting, { description: 'The highest cost one operation may have' })
  costLimit!: IntSetting;

  @Field(() => IntSetting, { description: 'Operation cost a user (or anonymous IP) may spend per budget window' })
  costBudget!: IntSetting;

  @Field(() => IntSetting, { description: 'The window, in seconds, of the cost budget' })
  costBudgetWindowSeconds!: IntSetting;

  @Field(() => IntSetting, { description: 'Subscribe messages per request window per websocket connection' })
  wsSubscribeLimit!: IntSetting;

  @Field(() => IntSetting, { description: 'Events a websocket subscription may have waiting before it is closed as too slow (4008)' })
  wsMaxQueue!: IntSetting;

  @Field(() => IntSetting, { description: 'Open websocket connections per client IP on one instance (close code 4029 beyond)' })
  wsMaxConnectionsPerIp!: IntSetting;

  @Field(() => IntSetting, { description: 'Open signed-in websocket connections per user on one instance (close code 4029 beyond)' })
  wsMaxConnectionsPerUser!: IntSetting;

  @Field(() => IntSetting, { description: 'Live operations per websocket connection (RATE_LIMITED beyond)' })
  wsMaxSubscriptionsPerConnection!: IntSetting;
}

@ObjectType({ simpleResolvers: true, description: 'Lockout, session lifetimes and second-factor requirements' })
export class IdentitySettings {
  @Field(() => IntSetting, { description: 'Failed sign-ins within the window that lock an account' })
  lockoutThreshold!: IntSetting;

  @Field(() => IntSetting, { description: 'The window, in seconds, in which failed sign-ins are counted' })
  lockoutWindowSeconds!: IntSetting;

  @Field(() => IntSetting, { description: 'Seconds an account stays locked' })
  lockoutDurationSeconds!: IntSetting;

  @Field(() => IntSetting, { description: 'Seconds of inactivity after which a session ends' })
  sessionIdleTimeoutSeconds!: IntSetting;

  @Field(() => IntSetting, { description: 'Seconds after sign-in at which a session ends however active it is' })
  sessionMaxLifetimeSeconds!: IntSetting;

  @Field(() => IntSetting, { description: 'Sessions one user may have at once (the oldest ends when a new one starts)' })
  maxSessionsPerUser!: IntSetting;

  @Field(() => [RoleMfaSetting], { description: 'Whether a second factor is required, one entry per role' })
  mfaRequired!: RoleMfaSetting[];
}

@ObjectType({ simpleResolvers: true, description: 'Audit retention, backup schedule and retention, restore drills' })
export class RetentionSettings {
  @Field(() => IntSetting, { description: 'Days audit entries are kept; 0 keeps them forever' })
  auditRetentionDays!: IntSetting;

  @Field(() => ScheduleSetting, { description: 'When scheduled backups run' })
  backupSchedule!: ScheduleSetting;

  @Field(() => IntSetting, { description: 'The newest successful backups always kept; 0: no count rule' })
  backupKeepLast!: IntSetting;

  @Field(() => IntSetting, { description: 'Days every backup is kept; 0: no age rule' })
  backupKeepDays!: IntSetting;

  @Field(() => ScheduleSetting, { description: 'When restore drills run' })
  drillSchedule!: ScheduleSetting;

  @Field(() => IntSetting, { description: 'Hours without a successful backup after which backups read as stale' })
  backupMaxAgeHours!: IntSetting;
}

@ObjectType({ simpleResolvers: true, description: 'The cluster-wide maintenance state: while enabled, mutations other than sign-in/out, the settings and restores answer SERVICE_UNAVAILABLE' })
export class Maintenance {
  @Field({ description: 'True while every instance refuses writes' })
  enabled!: boolean;

  @Field(() => String, { nullable: true, description: 'What refused writes answer with' })
  message!: string | null;

  @Field(() => Date, { nullable: true, description: 'Since when maintenance is on; null when off' })
  since!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why it is on: who turned it on, or the operation holding it (a restore)' })
  reason!: string | null;
}

@ObjectType({ simpleResolvers: true, implements: Node, description: 'The runtime settings every instance applies, with the maintenance state; changed with updateSystemSettings' })
export class SystemSettings {
  id!: string;

  @Field(() => Int, { description: 'Increases with every change; updateSystemSettings needs the current one' })
  version!: number;

  @Field({ description: 'When the settings last changed' })
  updatedAt!: Date;

  updatedById!: string | null;

  @Field(() => AlertSettings, { description: 'Alert deduplication, escalation, denial threshold and channel levels' })
  alerts!: AlertSettings;

  @Field(() => ProtectionSettings, { description: 'Request limits, cost limits and websocket budgets' })
  protection!: ProtectionSettings;

  @Field(() => IdentitySettings, { description: 'Lockout, sessions and second-factor requirements' })
  identity!: IdentitySettings;

  @Field(() => RetentionSettings, { description: 'Audit retention, backup schedule and retention, restore drills' })
  retention!: RetentionSettings;

  @Field(() => Maintenance, { description: 'The cluster-wide maintenance state' })
  maintenance!: Maintenance;
}

@ObjectType({ simpleResolvers: true, description: 'One setting changed by one version' })
export class SettingChange {
  @Field({ description: 'The setting, as a dotted path of SystemSettings (e.g. `protection.anonymousRequestLimit`)' })
  key!: string;

  @Field(() => JSONScalar, { nullable: true, description: 'The effective value before' })
  before!: unknown;

  @Field(() => JSONScalar, { nullable: true, description: 'The effective value after' })
  after!: unknown;

  @Field(() => SettingSource, { description: 'Where the value came from before' })
  beforeSource!: SettingSource;

  @Field(() => SettingSource, { description: 'Where the value comes from after' })
  afterSource!: SettingSource;
}

@ObjectType({ simpleResolvers: true, implements: Node, description: 'One version of the system settings: who changed what' })
export class SystemSettingsChange {
  @Field(() => ID, { description: 'Unique across all types (a stored change keeps its UUID)' })
  id!: string;

  @Field(() => Int, { description: 'The settings version this change made' })
  version!: number;

  @Field({ description: 'When it was made' })
  at!: Date;

  actorId!: string | null;

  @Field(() => String, { nullable: true, description: 'The email of who made it at that time; null for the system (a restore)' })
  actorEmail!: string | null;

  @Field(() => String, { nullable: true, description: 'Why, for changes the system made (maintenance for a restore)' })
  reason!: string | null;

  @Field(() => [SettingChange], { description: 'Each setting that changed' })
  changes!: SettingChange[];
}

export const SystemSettingsChangeConnection = ConnectionType(SystemSettingsChange, 'SystemSettingsChange', 'newest first');
