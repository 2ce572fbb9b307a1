import { registerEnumType } from 'type-graphql';
import { Permission, Role } from '../permissions/roles';

/** Health of a component or of the whole platform. */
export enum HealthStatus {
  UP = 'UP',
  DEGRADED = 'DEGRADED',
  DOWN = 'DOWN',
}

registerEnumType(Role, { name: 'Role', description: 'A user role; each holds the permissions of the roles below it' });
registerEnumType(Permission, { name: 'Permission' });
registerEnumType(HealthStatus, { name: 'HealthStatus' });

export { Permission, Role };
