import { and, rule } from 'graphql-shield';
import type { Context } from '../context';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import type { Permission } from './roles';

/** A shield rule or logic rule (the library does not export the type from its entry point). */
export type ShieldRule = Parameters<typeof and>[number];

/** Rules by field name, as in one type of the permission map. */
export type RuleFieldMap = Record<string, ShieldRule>;

/**
 * Rules answer with typed errors so a denial leaves with the right code: UNAUTHENTICATED without a
 * valid token, FORBIDDEN with one. They depend only on the viewer, hence the contextual cache.
 */
export const isAuthenticated = rule('isAuthenticated', { cache: 'contextual' })(
  (_parent, _args, ctx: Context) => (ctx.viewer ? true : new UnauthenticatedError()),
);

const permissionRules = new Map<Permission, ReturnType<ReturnType<typeof rule>>>();

/** Allows viewers whose role holds `permission`. */
export function hasPermission(permission: Permission) {
  let existing = permissionRules.get(permission);
  if (!existing) {
    existing = rule(`hasPermission:${permission}`, { cache: 'contextual' })((_parent, _args, ctx: Context) => {
      if (!ctx.viewer) return new UnauthenticatedError();
      if (ctx.viewer.permissions.has(permission)) return true;
      return new ForbiddenError(`This needs the ${permission} permission`);
    });
    permissionRules.set(permission, existing);
  }
  return existing;
}

/** Whether a viewer (or nobody) holds a permission; for visibility decisions outside shield rules. */
export function can(viewer: Context['viewer'], permission: Permission): boolean {
  return viewer?.permissions.has(permission) ?? false;
}
