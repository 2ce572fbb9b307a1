import { ForbiddenError } from '../errors';
import { roleAtLeast, type Role } from './roles';

/** Who acts on a user account: the signed-in administrator, or the operator's CLI (null). */
export interface UserActor {
  id: string;
  role: Role;
}

/**
 * The rules for granting roles and changing accounts, applied by the user service with the data
 * they need: nobody grants a role above their own, nobody changes their own role or disables
 * themselves, and nobody changes an account that ranks above them. The command line (actor null)
 * is the operator and may do anything these rules allow the top role.
 * @throws {ForbiddenError} naming the rule that refused.
 */
export function assertMayAssignRole(actor: UserActor | null, role: Role): void {
  if (actor && !roleAtLeast(actor.role, role)) {
    throw new ForbiddenError(`You cannot grant the ${role} role: it is above your own`);
  }
}

/** See {@link assertMayAssignRole}; `change` lists what the update touches. */
export function assertMayUpdateUser(
  actor: UserActor | null,
  target: { id: string; role: Role },
  change: { role?: Role; disabled?: boolean },
): void {
  if (!actor) return;
  if (!roleAtLeast(actor.role, target.role)) {
    throw new ForbiddenError('You cannot change an account whose role is above your own');
  }
  if (actor.id === target.id && change.role !== undefined && change.role !== target.role) {
    throw new ForbiddenError('You cannot change your own role');
  }
  if (actor.id === target.id && change.disabled === true) {
    throw new ForbiddenError('You cannot disable your own account');
  }
  if (change.role !== undefined) assertMayAssignRole(actor, change.role);
}

/**
 * Resetting another user's second factor: not one's own (that needs a code, through `disableMfa`),
 * and not an account whose role is above one's own.
 * @throws {ForbiddenError} naming the rule that refused.
 */
export function assertMayResetSecondFactor(actor: UserActor, target: { id: string; role: Role }): void {
  if (actor.id === target.id) throw new ForbiddenError('Use disableMfa, with a current code, for your own account');
  if (!roleAtLeast(actor.role, target.role)) throw new ForbiddenError('You cannot change an account whose role is above your own');
}
