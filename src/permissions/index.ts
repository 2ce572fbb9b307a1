import { allow, and, deny, shield } from 'graphql-shield';
import type { RuleFieldMap, ShieldRule } from './rules';
import type { IMiddlewareTypeMap } from 'graphql-middleware';
import { isObjectType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import type { IRules } from 'graphql-shield';
import type { Context } from '../context';
import { Permission } from './roles';
import { denyAccess } from './denials';
import { can, canRevokeSession, canSeeAccountDetails, canSilenceAlerts, hasPermission, isAuthenticated, isSignedIn } from './rules';

/**
 * The permission map: the one place that says who may touch which field. Anything not named here
 * is denied. Subscription fields are checked at subscribe time with these same rules
 * (see `guardSubscriptions`).
 */
export const ruleTree = {
  Query: {
    // `node`/`nodes` apply each object's own rule (permissions/node-policy.ts) once its type is known.
    node: allow,
    nodes: allow,
    health: allow,
    me: allow,
    myPermissions: allow,
    mySessions: isSignedIn,
    users: hasPermission(Permission.ADMIN_ACCESS),
    auditLogs: hasPermission(Permission.AUDIT_ACCESS),
    verifyAuditChain: hasPermission(Permission.AUDIT_ACCESS),
    alerts: isAuthenticated,
    alert: isAuthenticated,
    backups: hasPermission(Permission.ADMIN_ACCESS),
    backup: hasPermission(Permission.ADMIN_ACCESS),
    systemSettings: hasPermission(Permission.ADMIN_ACCESS),
    systemSettingsHistory: hasPermission(Permission.ADMIN_ACCESS),
    securityAudit: hasPermission(Permission.ADMIN_ACCESS),
    cacheStats: hasPermission(Permission.ADMIN_ACCESS),
    dbStats: hasPermission(Permission.ADMIN_ACCESS),
    investigation: hasPermission(Permission.READ_INVESTIGATIONS),
    investigations: hasPermission(Permission.READ_INVESTIGATIONS),
  } satisfies RuleFieldMap,
  Mutation: {
    login: allow,
    refreshSession: allow,
    logout: isSignedIn,
    revokeSession: canRevokeSession,
    revokeSessionV2: canRevokeSession,
    enrollMfa: isSignedIn,
    confirmMfa: isSignedIn,
    disableMfa: isAuthenticated,
    confirmMfaWithRecoveryCodes: isSignedIn,
    regenerateRecoveryCodes: isAuthenticated,
    resetUserMfa: hasPermission(Permission.ADMIN_ACCESS),
    createUser: hasPermission(Permission.ADMIN_ACCESS),
    updateUser: hasPermission(Permission.ADMIN_ACCESS),
    exportAuditLogs: and(hasPermission(Permission.AUDIT_ACCESS), hasPermission(Permission.EXPORT_DATA)),
    raiseAlert: hasPermission(Permission.ADMIN_ACCESS),
    acknowledgeAlert: hasPermission(Permission.MODIFY_INVESTIGATIONS),
    resolveAlert: hasPermission(Permission.MODIFY_INVESTIGATIONS),
    silenceAlerts: and(hasPermission(Permission.MODIFY_INVESTIGATIONS), canSilenceAlerts),
    openInvestigationFromAlert: and(hasPermission(Permission.CREATE_INVESTIGATIONS), hasPermission(Permission.MODIFY_INVESTIGATIONS)),
    createBackup: hasPermission(Permission.ADMIN_ACCESS),
    verifyBackup: hasPermission(Permission.ADMIN_ACCESS),
    restoreBackup: hasPermission(Permission.SYSTEM_CONFIG),
    deleteBackup: hasPermission(Permission.SYSTEM_CONFIG),
    deleteBackupV2: hasPermission(Permission.SYSTEM_CONFIG),
    updateSystemSettings: hasPermission(Permission.SYSTEM_CONFIG),
    createInvestigation: hasPermission(Permission.CREATE_INVESTIGATIONS),
    updateInvestigation: hasPermission(Permission.MODIFY_INVESTIGATIONS),
    deleteInvestigation: hasPermission(Permission.DELETE_INVESTIGATIONS),
    deleteInvestigationV2: hasPermission(Permission.DELETE_INVESTIGATIONS),
    addFinding: hasPermission(Permission.MODIFY_INVESTIGATIONS),
    addAction: hasPermission(Permission.MODIFY_INVESTIGATIONS),
    updateActionStatus: hasPermission(Permission.MODIFY_INVESTIGATIONS),
    addNote: hasPermission(Permission.MODIFY_INVESTIGATIONS),
    exportInvestigation: hasPermission(Permission.EXPORT_DATA),
  } satisfies RuleFieldMap,
  Subscription: {
    healthChanged: allow,
    alertRaised: isAuthenticated,
    alertUpdated: isAuthenticated,
    backupProgress: hasPermission(Permission.ADMIN_ACCESS),
    investigationUpdated: hasPermission(Permission.READ_INVESTIGATIONS),
    systemSettingsChanged: hasPermission(Permission.ADMIN_ACCESS),
  } satisfies RuleFieldMap,
  Health: allow,
  User: {
    '*': allow,
    email: canSeeAccountDetails,
    role: canSeeAccountDetails,
    disabled: canSeeAccountDetails,
    mfaEnabled: canSeeAccountDetails,
  },
  UserConnection: allow,
  UserEdge: allow,
  Session: allow,
  AuthPayload: allow,
  RevokeSessionPayload: allow,
  MfaEnrollment: allow,
  MfaRecoveryCodes: allow,
  HealthComponent: allow,
  SecurityAudit: allow,
  SecurityCheck: allow,
  CacheStats: allow,
  DatabaseStats: allow,
  ConnectionStateCount: allow,
  TableSize: allow,
  SlowStatement: allow,
  DatabasePool: allow,
  PageInfo: allow,
  Investigation: allow,
  InvestigationConnection: allow,
  InvestigationEdge: allow,
  Finding: {
    '*': allow,
    subjectEmail: hasPermission(Permission.ACCESS_PII),
    subjectIp: hasPermission(Permission.ACCESS_PII),
    subjectName: hasPermission(Permission.ACCESS_PII),
  },
  FindingConnection: allow,
  FindingEdge: allow,
  RecommendedAction: allow,
  Note: allow,
  InvestigationExport: allow,
  DeleteInvestigationPayload: allow,
  Backup: allow,
  BackupConnection: allow,
  BackupEdge: allow,
  BackupVerification: allow,
  BackupCheck: allow,
  BackupProgress: allow,
  RestoreResult: allow,
  DeleteBackupPayload: allow,
  AuditLog: allow,
  AuditLogConnection: allow,
  AuditLogEdge: allow,
  AuditChainVerification: allow,
  AuditExport: allow,
  Alert: {
    '*': allow,
    investigation: hasPermission(Permission.READ_INVESTIGATIONS),
  },
  AlertConnection: allow,
  AlertEdge: allow,
  AlertSilence: allow,
  SystemSettings: allow,
  AlertSettings: allow,
  ProtectionSettings: allow,
  IdentitySettings: allow,
  RetentionSettings: allow,
  IntSetting: allow,
  AlertLevelSetting: allow,
  ScheduleSetting: allow,
  RoleRequestLimitSetting: allow,
  RoleMfaSetting: allow,
  Maintenance: allow,
  SystemSettingsChange: allow,
  SystemSettingsChangeConnection: allow,
  SystemSettingsChangeEdge: allow,
  SettingChange: allow,
};

/**
 * graphql-shield's defaults are unsafe for us: its fallback rule allows, and without
 * `allowExternalErrors` every error a resolver throws (NOT_FOUND, CONFLICT …) would become
 * "Not Authorised!".
 */
export const shieldOptions = {
  fallbackRule: deny,
  allowExternalErrors: true,
  debug: false,
  fallbackError: (_thrown: unknown, _parent: unknown, _args: unknown, ctx: object, info: GraphQLResolveInfo) =>
    denyAccess(ctx as Context, info, 'fallback:deny'),
};

/**
 * The map restricted to the types and fields `schema` has: it may name operations a schema built
 * for a test or a tool leaves out, and graphql-shield refuses rules for fields it cannot find.
 */
export function rulesFor(schema: GraphQLSchema): IRules {
  const pruned: Record<string, ShieldRule | RuleFieldMap> = {};
  for (const [typeName, rules] of Object.entries(ruleTree as Record<string, ShieldRule | RuleFieldMap>)) {
    const type = schema.getType(typeName);
    if (!type || !isObjectType(type)) continue;
    if (!isPlainFieldMap(rules)) {
      pruned[typeName] = rules;
      continue;
    }
    const fields = type.getFields();
    pruned[typeName] = Object.fromEntries(Object.entries(rules).filter(([field]) => field === '*' || field in fields));
  }
  return pruned as IRules;
}

function isPlainFieldMap(value: ShieldRule | RuleFieldMap): value is RuleFieldMap {
  return Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * The shield middleware for a schema: deny by default, typed errors kept, denials recorded.
 * Fields whose rule is `allow` keep their own resolver: shield would wrap each of them in an async
 * middleware that only says yes, and a page of investigations resolves about 1,500 such fields
 * (about a tenth of the request's CPU time, bench/README.md).
 */
export function permissionsFor(schema: GraphQLSchema): IMiddlewareTypeMap {
  const rules = rulesFor(schema) as Record<string, ShieldRule | RuleFieldMap>;
  const generated = shield(rules as IRules, shieldOptions).generate(schema) as IMiddlewareTypeMap;
  for (const [typeName, typeRules] of Object.entries(rules)) {
    const fields = generated[typeName];
    if (!fields || typeof fields === 'function') continue;
    for (const field of Object.keys(fields)) {
      const effective = isPlainFieldMap(typeRules) ? (typeRules[field] ?? typeRules['*'] ?? shieldOptions.fallbackRule) : typeRules;
      if (effective === allow) delete (fields as Record<string, unknown>)[field];
    }
    if (!Object.keys(fields).length) delete generated[typeName];
  }
  return generated;
}

/**
 * Fields that resolve to null, without an error, for viewers who may not see them: the health
 * details are meant for dashboards that also show anonymous visitors the overall status.
 */
export const redactions: IMiddlewareTypeMap<unknown, Context> = {
  Health: {
    components: (resolve, parent, args, ctx, info) => (can(ctx.viewer, Permission.ADMIN_ACCESS) ? resolve(parent, args, ctx, info) : null),
  },
};

export { Permission, Role, ROLE_PERMISSIONS, permissionsOf, roleAtLeast } from './roles';
export { can, canRevokeSession, hasPermission, isAuthenticated } from './rules';
export { denyAccess } from './denials';
