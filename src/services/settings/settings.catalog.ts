import { z } from 'zod';
import { variableSchema, type AlertLevelName, type Config, type EnvironmentVariable } from '../../config';
import { ROLE_ORDER, Role } from '../../permissions/roles';

/** A setting's value as it is stored (JSON) and compared. */
export type SettingValue = number | string | boolean | null;

/** Where an effective value comes from. */
export enum SettingSource {
  /** Nothing set it: the built-in default. */
  DEFAULT = 'DEFAULT',
  /** The environment variable set it at boot. */
  ENVIRONMENT = 'ENVIRONMENT',
  /** A SUPER_ADMIN changed it at runtime; the stored value overrides the boot value on every instance. */
  STORED = 'STORED',
}

/** What kind of value a setting holds (decides its GraphQL type). */
export type SettingKind = 'int' | 'level' | 'schedule' | 'flag';

/** One runtime setting: where it sits, which environment variable gives its boot value, how it is validated. */
export interface SettingDefinition {
  /** Dotted path in {@link SettingsValues}, e.g. `protection.anonymousRequestLimit`; also the input field path. */
  key: string;
  /** The environment variable whose value is the boot value (several per-role settings share one). */
  variable: EnvironmentVariable;
  kind: SettingKind;
  /** Null is a value of its own (a role without its own request limit uses the user limit). */
  nullable?: boolean;
  /** The zod schema a new value must pass: the variable's own schema from src/config.ts unless a per-role part of it. */
  schema: z.ZodType;
  /** The boot value, as `loadConfig` worked it out. */
  read(config: Config): SettingValue;
}

/** The effective settings every consumer reads (synchronously, from memory). */
export interface SettingsValues {
  alerts: {
    cooldownSeconds: number;
    escalationSeconds: number;
    denialsThreshold: number;
    denialsWindowSeconds: number;
    logMinLevel: AlertLevelName;
    webhookMinLevel: AlertLevelName;
    slackMinLevel: AlertLevelName;
    emailMinLevel: AlertLevelName;
  };
  protection: {
    requestWindowSeconds: number;
    anonymousRequestLimit: number;
    userRequestLimit: number;
    /** Null: the role uses `userRequestLimit`. */
    roleRequestLimits: Record<Role, number | null>;
    signInLimit: number;
    signInWindowSeconds: number;
    costLimit: number;
    costBudget: number;
    costBudgetWindowSeconds: number;
    wsSubscribeLimit: number;
    wsMaxQueue: number;
    wsMaxConnectionsPerIp: number;
    wsMaxConnectionsPerUser: number;
    wsMaxSubscriptionsPerConnection: number;
  };
  identity: {
    lockoutThreshold: number;
    lockoutWindowSeconds: number;
    lockoutDurationSeconds: number;
    sessionIdleTimeoutSeconds: number;
    sessionMaxLifetimeSeconds: number;
    maxSessionsPerUser: number;
    mfaRequired: Record<Role, boolean>;
  };
  retention: {
    auditRetentionDays: number;
    /** A cron expression (UTC) or `off`. */
    backupSchedule: string;
    backupKeepLast: number;
    backupKeepDays: number;
    /** A cron expression (UTC) or `off`. */
    drillSchedule: string;
    backupMaxAgeHours: number;
  };
}

const of = (variable: EnvironmentVariable) => variableSchema(variable);

function setting(key: string, variable: EnvironmentVariable, kind: SettingKind, read: (config: Config) => SettingValue): SettingDefinition {
  return { key, variable, kind, schema: of(variable), read };
}

/** Every runtime setting; the GraphQL types, the CLI and the console list them from here. */
export const SETTINGS: readonly SettingDefinition[] = [
  setting('alerts.cooldownSeconds', 'VIGIL_ALERT_COOLDOWN_SECONDS', 'int', (c) => c.alerts.cooldownSeconds),
  setting('alerts.escalationSeconds', 'VIGIL_ALERT_ESCALATION_SECONDS', 'int', (c) => c.alerts.escalationSeconds),
  setting('alerts.denialsThreshold', 'VIGIL_ALERT_DENIALS_THRESHOLD', 'int', (c) => c.alerts.denialsThreshold),
  setting('alerts.denialsWindowSeconds', 'VIGIL_ALERT_DENIALS_WINDOW_SECONDS', 'int', (c) => c.alerts.denialsWindowSeconds),
  setting('alerts.logMinLevel', 'VIGIL_ALERT_LOG_MIN_LEVEL', 'level', (c) => c.alerts.minLevels.log),
  setting('alerts.webhookMinLevel', 'VIGIL_ALERT_WEBHOOK_MIN_LEVEL', 'level', (c) => c.alerts.minLevels.webhook),
  setting('alerts.slackMinLevel', 'VIGIL_ALERT_SLACK_MIN_LEVEL', 'level', (c) => c.alerts.minLevels.slack),
  setting('alerts.emailMinLevel', 'VIGIL_ALERT_EMAIL_MIN_LEVEL', 'level', (c) => c.alerts.minLevels.email),

  setting('protection.requestWindowSeconds', 'VIGIL_RATE_LIMIT_WINDOW_SECONDS', 'int', (c) => c.protection.rateLimit.windowSeconds),
  setting('protection.anonymousRequestLimit', 'VIGIL_RATE_LIMIT_ANONYMOUS', 'int', (c) => c.protection.rateLimit.anonymous),
  setting('protection.userRequestLimit', 'VIGIL_RATE_LIMIT_USER', 'int', (c) => c.protection.rateLimit.user),
  // VIGIL_RATE_LIMIT_ROLES is one list (`ADMIN=1200,…`); each entry has the range of the user limit.
  ...ROLE_ORDER.map(
    (role): SettingDefinition => ({
      key: `protection.roleRequestLimits.${role}`,
      variable: 'VIGIL_RATE_LIMIT_ROLES',
      kind: 'int',
      nullable: true,
      schema: of('VIGIL_RATE_LIMIT_USER'),
      read: (c) => c.protection.rateLimit.roles[role] ?? null,
    }),
  ),
  setting('protection.signInLimit', 'VIGIL_RATE_LIMIT_LOGIN', 'int', (c) => c.protection.rateLimit.login),
  setting('protection.signInWindowSeconds', 'VIGIL_RATE_LIMIT_LOGIN_WINDOW_SECONDS', 'int', (c) => c.protection.rateLimit.loginWindowSeconds),
  setting('protection.costLimit', 'VIGIL_MAX_COST', 'int', (c) => c.protection.limits.maxCost),
  setting('protection.costBudget', 'VIGIL_COST_BUDGET', 'int', (c) => c.protection.costBudget.points),
  setting('protection.costBudgetWindowSeconds', 'VIGIL_COST_BUDGET_WINDOW_SECONDS', 'int', (c) => c.protection.costBudget.windowSeconds),
  setting('protection.wsSubscribeLimit', 'VIGIL_RATE_LIMIT_WS_SUBSCRIBE', 'int', (c) => c.protection.rateLimit.wsSubscribe),
  setting('protection.wsMaxQueue', 'VIGIL_WS_MAX_QUEUE', 'int', (c) => c.alerts.wsMaxQueue),
  setting('protection.wsMaxConnectionsPerIp', 'VIGIL_WS_MAX_CONNECTIONS_PER_IP', 'int', (c) => c.protection.websocket.maxConnectionsPerIp),
  setting('protection.wsMaxConnectionsPerUser', 'VIGIL_WS_MAX_CONNECTIONS_PER_USER', 'int', (c) => c.protection.websocket.maxConnectionsPerUser),
  setting(
    'protection.wsMaxSubscriptionsPerConnection',
    'VIGIL_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION',
    'int',
    (c) => c.protection.websocket.maxSubscriptionsPerConnection,
  ),

  setting('identity.lockoutThreshold', 'VIGIL_LOCKOUT_THRESHOLD', 'int', (c) => c.auth.lockoutThreshold),
  setting('identity.lockoutWindowSeconds', 'VIGIL_LOCKOUT_WINDOW_SECONDS', 'int', (c) => c.auth.lockoutWindowSeconds),
  setting('identity.lockoutDurationSeconds', 'VIGIL_LOCKOUT_DURATION_SECONDS', 'int', (c) => c.auth.lockoutDurationSeconds),
  setting('identity.sessionIdleTimeoutSeconds', 'VIGIL_SESSION_IDLE_TIMEOUT_SECONDS', 'int', (c) => c.auth.sessionIdleTimeoutSeconds),
  setting('identity.sessionMaxLifetimeSeconds', 'VIGIL_SESSION_MAX_LIFETIME_SECONDS', 'int', (c) => c.auth.sessionMaxLifetimeSeconds),
  setting('identity.maxSessionsPerUser', 'VIGIL_MAX_SESSIONS_PER_USER', 'int', (c) => c.auth.maxSessionsPerUser),
  // VIGIL_MFA_REQUIRED_ROLES is one list of roles; each role's part of it is a flag (the whole list is
  // checked against the variable's schema as well, see settings.validation.ts).
  ...ROLE_ORDER.map(
    (role): SettingDefinition => ({
      key: `identity.mfaRequired.${role}`,
      variable: 'VIGIL_MFA_REQUIRED_ROLES',
      kind: 'flag',
      schema: z.boolean(),
      read: (c) => c.auth.mfaRequiredRoles.includes(role),
    }),
  ),

  setting('retention.auditRetentionDays', 'VIGIL_AUDIT_RETENTION_DAYS', 'int', (c) => c.audit.retentionDays),
  setting('retention.backupSchedule', 'VIGIL_BACKUP_SCHEDULE', 'schedule', (c) => c.backups.schedule ?? 'off'),
  setting('retention.backupKeepLast', 'VIGIL_BACKUP_KEEP_LAST', 'int', (c) => c.backups.keepLast),
  setting('retention.backupKeepDays', 'VIGIL_BACKUP_KEEP_DAYS', 'int', (c) => c.backups.keepDays),
  setting('retention.drillSchedule', 'VIGIL_BACKUP_DRILL_SCHEDULE', 'schedule', (c) => c.backups.drillSchedule ?? 'off'),
  setting('retention.backupMaxAgeHours', 'VIGIL_BACKUP_MAX_AGE_HOURS', 'int', (c) => c.backups.maxAgeHours),
];

/** Definitions by key. */
export const SETTINGS_BY_KEY: ReadonlyMap<string, SettingDefinition> = new Map(SETTINGS.map((d) => [d.key, d]));

/** The allowed range of an integer setting, read from its zod schema. */
export function rangeOf(definition: SettingDefinition): { min: number; max: number } | null {
  let schema: z.ZodType = definition.schema;
  while (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) schema = schema.unwrap() as z.ZodType;
  if (schema instanceof z.ZodNumber && schema.minValue !== null && schema.maxValue !== null) {
    return { min: schema.minValue, max: schema.maxValue };
  }
  return null;
}

/** A value at a dotted path of a nested object. */
export function valueAt(root: object, key: string): SettingValue {
  let node: unknown = root;
  for (const part of key.split('.')) node = (node as Record<string, unknown>)[part];
  return node as SettingValue;
}

function assignAt(root: Record<string, unknown>, key: string, value: SettingValue): void {
  const parts = key.split('.');
  let node = root;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

/** The boot values (environment, else default) of every setting. */
export function bootValues(config: Config): Map<string, SettingValue> {
  return new Map(SETTINGS.map((d) => [d.key, d.read(config)]));
}

/** The effective values: a stored value where there is one, the boot value otherwise. */
export function effectiveValues(boot: ReadonlyMap<string, SettingValue>, stored: Readonly<Record<string, SettingValue>>): SettingsValues {
  const root: Record<string, unknown> = {};
  for (const d of SETTINGS) assignAt(root, d.key, d.key in stored ? stored[d.key]! : boot.get(d.key)!);
  return root as unknown as SettingsValues;
}

/** A setting's source given the stored overrides and the variables the environment set. */
export function sourceOf(definition: SettingDefinition, stored: Readonly<Record<string, SettingValue>>, config: Config): SettingSource {
  if (definition.key in stored) return SettingSource.STORED;
  return config.environmentVariables.has(definition.variable) ? SettingSource.ENVIRONMENT : SettingSource.DEFAULT;
}
