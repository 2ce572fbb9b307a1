import { registerEnumType } from 'type-graphql';
import { Permission, Role } from '../permissions/roles';

/** Health of a component or of the whole platform. */
export enum HealthStatus {
  UP = 'UP',
  DEGRADED = 'DEGRADED',
  DOWN = 'DOWN',
}

registerEnumType(Role, {
  name: 'Role',
  description: 'A user role, lowest first; each holds the permissions of the roles below it',
  valuesConfig: {
    VIEWER: { description: 'Reads investigations' },
    ANALYST: { description: '+ creates and modifies investigations' },
    SENIOR_ANALYST: { description: '+ reads personal data, exports' },
    INVESTIGATOR: { description: '+ deletes investigations' },
    ADMIN: { description: '+ audit trail, health details, backups, user management' },
    SUPER_ADMIN: { description: '+ system configuration, restores' },
  },
});
registerEnumType(Permission, {
  name: 'Permission',
  description: "What a role allows; `myPermissions` lists the signed-in user's",
  valuesConfig: {
    READ_INVESTIGATIONS: { description: 'Read investigations, findings, actions and notes' },
    CREATE_INVESTIGATIONS: { description: 'Open investigations' },
    MODIFY_INVESTIGATIONS: { description: 'Change investigations, add findings, actions and notes; acknowledge and resolve alerts' },
    ACCESS_PII: { description: "Read findings' personal data (subject*); every read is audited" },
    EXPORT_DATA: { description: 'Export investigations and audit entries' },
    DELETE_INVESTIGATIONS: { description: 'Delete investigations' },
    ADMIN_ACCESS: { description: 'Manage users, backups and alerts; read health details and statistics' },
    AUDIT_ACCESS: { description: 'Read and verify the audit trail' },
    SYSTEM_CONFIG: { description: 'Change system settings, restore and delete backups' },
  },
});
registerEnumType(HealthStatus, {
  name: 'HealthStatus',
  description: 'How a component or the whole platform is doing, best first',
  valuesConfig: {
    UP: { description: 'Working normally' },
    DEGRADED: { description: 'Working with a problem (a non-critical component is down, or one is slow)' },
    DOWN: { description: 'Not working (for the platform: a critical component is down)' },
  },
});

export { Permission, Role };
