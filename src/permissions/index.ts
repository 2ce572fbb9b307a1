import { allow, deny, shield } from 'graphql-shield';
import type { RuleFieldMap } from './rules';
import type { IMiddlewareTypeMap } from 'graphql-middleware';
import type { Context } from '../context';
import { ForbiddenError } from '../errors';
import { Permission } from './roles';
import { can } from './rules';

/**
 * The permission map: the one place that says who may touch which field. Anything not named here
 * is denied. Subscription fields are checked at subscribe time with these same rules
 * (see `guardSubscriptions`).
 */
export const ruleTree = {
  Query: {
    health: allow,
  } satisfies RuleFieldMap,
  Subscription: {
    healthChanged: allow,
  } satisfies RuleFieldMap,
  Health: allow,
  HealthComponent: allow,
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
  fallbackError: () => new ForbiddenError(),
};

export const permissions = shield(ruleTree, shieldOptions);

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
export { can, hasPermission, isAuthenticated } from './rules';
