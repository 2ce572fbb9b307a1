/** The six roles, lowest to highest; each holds every permission of the roles below it. */
export enum Role {
  VIEWER = 'VIEWER',
  ANALYST = 'ANALYST',
  SENIOR_ANALYST = 'SENIOR_ANALYST',
  INVESTIGATOR = 'INVESTIGATOR',
  ADMIN = 'ADMIN',
  SUPER_ADMIN = 'SUPER_ADMIN',
}

export enum Permission {
  READ_INVESTIGATIONS = 'READ_INVESTIGATIONS',
  CREATE_INVESTIGATIONS = 'CREATE_INVESTIGATIONS',
  MODIFY_INVESTIGATIONS = 'MODIFY_INVESTIGATIONS',
  ACCESS_PII = 'ACCESS_PII',
  EXPORT_DATA = 'EXPORT_DATA',
  DELETE_INVESTIGATIONS = 'DELETE_INVESTIGATIONS',
  ADMIN_ACCESS = 'ADMIN_ACCESS',
  AUDIT_ACCESS = 'AUDIT_ACCESS',
  SYSTEM_CONFIG = 'SYSTEM_CONFIG',
}

/** Roles in ascending order of privilege. */
export const ROLE_ORDER: readonly Role[] = [
  Role.VIEWER,
  Role.ANALYST,
  Role.SENIOR_ANALYST,
  Role.INVESTIGATOR,
  Role.ADMIN,
  Role.SUPER_ADMIN,
];

/** What each role adds to the one below it: each role holds its own grants and those of every role under it (README, "Roles and permissions"). */
const GRANTS: Record<Role, readonly Permission[]> = {
  [Role.VIEWER]: [Permission.READ_INVESTIGATIONS],
  [Role.ANALYST]: [Permission.CREATE_INVESTIGATIONS, Permission.MODIFY_INVESTIGATIONS],
  [Role.SENIOR_ANALYST]: [Permission.ACCESS_PII, Permission.EXPORT_DATA],
  [Role.INVESTIGATOR]: [Permission.DELETE_INVESTIGATIONS],
  [Role.ADMIN]: [Permission.ADMIN_ACCESS, Permission.AUDIT_ACCESS],
  [Role.SUPER_ADMIN]: [Permission.SYSTEM_CONFIG],
};

/** The role → permission table: every role's full set of permissions. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = Object.fromEntries(
  ROLE_ORDER.map((role, i) => [role, new Set(ROLE_ORDER.slice(0, i + 1).flatMap((r) => GRANTS[r]))]),
) as unknown as Record<Role, ReadonlySet<Permission>>;

/** The permissions a role holds, in the enum's order. */
export function permissionsOf(role: Role): Permission[] {
  return Object.values(Permission).filter((p) => ROLE_PERMISSIONS[role].has(p));
}

/** Whether `role` ranks at or above `other`. */
export function roleAtLeast(role: Role, other: Role): boolean {
  return ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(other);
}
