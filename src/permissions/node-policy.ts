import type { Context } from '../context';
import { Permission } from './roles';

type Viewer = Context['viewer'];

/**
 * Who may see the objects of one type when `node`/`nodes` fetch them: the same rule as the type's
 * own query. `every` says whether the viewer may see every object of the type; `object`, for
 * types where the answer depends on the object (another user's session), whether this one.
 */
export interface NodeRule {
  every(viewer: Viewer): boolean;
  object?(viewer: Viewer, value: object): boolean;
}

const permission = (p: Permission): NodeRule => ({ every: (viewer) => viewer?.permissions.has(p) ?? false });
const signedIn: NodeRule = { every: (viewer) => viewer !== null && !viewer.mfaEnrollmentRequired };
const anyone: NodeRule = { every: () => true };

/**
 * The rule of every type `node` can answer, by GraphQL type name; a type not named here is never
 * answered (FORBIDDEN). An area adding a `Node` type adds its rule here, next to its shield rules.
 */
export const nodeRules: Record<string, NodeRule> = {
  Investigation: permission(Permission.READ_INVESTIGATIONS),
  Finding: permission(Permission.READ_INVESTIGATIONS),
  RecommendedAction: permission(Permission.READ_INVESTIGATIONS),
  Note: permission(Permission.READ_INVESTIGATIONS),
  // Another user's email, role … stay guarded by the User field rules, whichever way it is reached.
  User: signedIn,
  Session: {
    every: (viewer) => viewer?.permissions.has(Permission.ADMIN_ACCESS) ?? false,
    object: (viewer, value) => viewer !== null && (value as { userId?: string }).userId === viewer.id,
  },
  Alert: signedIn,
  AlertSilence: permission(Permission.MODIFY_INVESTIGATIONS),
  AuditLog: permission(Permission.AUDIT_ACCESS),
  AuditChainVerification: permission(Permission.AUDIT_ACCESS),
  Backup: permission(Permission.ADMIN_ACCESS),
  BackupVerification: permission(Permission.ADMIN_ACCESS),
  BackupProgress: permission(Permission.ADMIN_ACCESS),
  Health: anyone,
  HealthComponent: permission(Permission.ADMIN_ACCESS),
  SecurityAudit: permission(Permission.ADMIN_ACCESS),
  CacheStats: permission(Permission.ADMIN_ACCESS),
  DatabaseStats: permission(Permission.ADMIN_ACCESS),
  SystemSettings: permission(Permission.ADMIN_ACCESS),
  SystemSettingsChange: permission(Permission.ADMIN_ACCESS),
};

/** Whether the viewer may see this object of type `typename` through `node`. */
export function maySeeNode(viewer: Viewer, typename: string, value: object): boolean {
  const rule = nodeRules[typename];
  if (!rule) return false;
  return rule.every(viewer) || (rule.object?.(viewer, value) ?? false);
}

/**
 * Whether the viewer may see every object of each of these types. When not, an id that names
 * nothing is answered as a denial: otherwise "null" and "FORBIDDEN" would tell a caller without
 * the permission which ids exist.
 */
export function maySeeEveryNodeOf(viewer: Viewer, typenames: Iterable<string>): boolean {
  for (const typename of typenames) if (!(nodeRules[typename]?.every(viewer) ?? false)) return false;
  return true;
}
