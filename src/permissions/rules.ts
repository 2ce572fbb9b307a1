import type { GraphQLResolveInfo } from 'graphql';
import { and, rule } from 'graphql-shield';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import { silenceCoversSecurity } from '../services/alerts/alert.service';
import type { Context } from '../context';
import { denyAccess } from './denials';
import { Permission } from './roles';

/** A shield rule or logic rule (the library does not export the type from its entry point). */
export type ShieldRule = Parameters<typeof and>[number];

/** Rules by field name, as in one type of the permission map. */
export type RuleFieldMap = Record<string, ShieldRule>;

/**
 * Rules answer with typed errors so a denial leaves with the right code: UNAUTHENTICATED without a
 * valid token, FORBIDDEN with one; a session that must enrol a second factor first is not
 * authenticated for anything but {@link isSignedIn} fields and has no permissions; every denial is recorded through {@link denyAccess}. They
 * depend only on the viewer, hence the contextual cache.
 */
export const isAuthenticated = rule('isAuthenticated', { cache: 'contextual' })((_parent, _args, ctx: Context, info) =>
  ctx.viewer && !ctx.viewer.mfaEnrollmentRequired ? true : denyAccess(ctx, info, 'isAuthenticated'),
);

/**
 * Any session, including one held to enrolling the second factor its role requires: only for
 * signing out, enrolling, and reading one's own account and sessions.
 */
export const isSignedIn = rule('isSignedIn', { cache: 'contextual' })((_parent, _args, ctx: Context, info) =>
  ctx.viewer ? true : denyAccess(ctx, info, 'isSignedIn'),
);

const permissionRules = new Map<Permission, ReturnType<ReturnType<typeof rule>>>();

/** Allows viewers whose role holds `permission`. */
export function hasPermission(permission: Permission) {
  let existing = permissionRules.get(permission);
  if (!existing) {
    const name = `hasPermission:${permission}`;
    existing = rule(name, { cache: 'contextual' })((_parent, _args, ctx: Context, info) => {
      if (ctx.viewer?.permissions.has(permission)) return true;
      return denyAccess(ctx, info, name, `This needs the ${permission} permission`);
    });
    permissionRules.set(permission, existing);
  }
  return existing;
}

/**
 * `revokeSession(id)` and `revokeSessionV2(id)`: one's own sessions, or anyone's with ADMIN_ACCESS. An unknown id passes so
 * the resolver answers NOT_FOUND. Depends on the argument, hence the strict cache.
 */
export const canRevokeSession = rule('canRevokeSession', { cache: 'strict' })(
  async (_parent, args: { id?: unknown }, ctx: Context, info) => {
    if (!ctx.viewer) return denyAccess(ctx, info, 'canRevokeSession');
    if (ctx.viewer.permissions.has(Permission.ADMIN_ACCESS)) return true;
    const owner = typeof args.id === 'string' ? await ctx.services.auth.sessionOwner(args.id) : null;
    if (owner === null || owner === ctx.viewer.id) return true;
    return denyAccess(ctx, info, 'canRevokeSession', 'You can only revoke your own sessions');
  },
);

const accountDetailDenials = new WeakSet<Context>();
/** The user objects a sign-in or refresh answers with: the caller is that user, though not yet a viewer. */
const signedInAccounts = new WeakSet<object>();

/** Lets the answer of `login` / `refreshSession` show the account that just signed in to its owner. */
export function answerSignedInAccount<T extends { user: object }>(payload: T): T {
  signedInAccounts.add(payload.user);
  return payload;
}

/**
 * An account's `email`, `role`, `disabled` and `mfaEnabled`: one's own, or anyone's with
 * ADMIN_ACCESS; whichever way the user was reached (`createdBy`, `assignee`, `acknowledgedBy`,
 * `node` …). The user of a sign-in's answer is the caller ({@link answerSignedInAccount}). Depends on
 * the parent, so it is not cached; the denial is recorded once per request, however many users
 * the answer holds.
 */
export const canSeeAccountDetails = rule('canSeeAccountDetails', { cache: 'no_cache' })(
  (parent: { id?: unknown } | null, _args, ctx: Context, info: GraphQLResolveInfo) => {
    if (parent && signedInAccounts.has(parent)) return true;
    if (ctx.viewer && (ctx.viewer.permissions.has(Permission.ADMIN_ACCESS) || parent?.id === ctx.viewer.id)) return true;
    const message = "Another user's account details need the ADMIN_ACCESS permission";
    if (accountDetailDenials.has(ctx)) return ctx.viewer ? new ForbiddenError(message) : new UnauthenticatedError();
    accountDetailDenials.add(ctx);
    return denyAccess(ctx, info, 'canSeeAccountDetails', message);
  },
);

/**
 * `silenceAlerts(matcher)`: a silence that can mute security alerts (it names the security source
 * or a security fingerprint, or names no source and so matches them all) needs ADMIN_ACCESS, so
 * nobody silences the alerts raised about themselves. Depends on the argument: strict cache.
 */
export const canSilenceAlerts = rule('canSilenceAlerts', { cache: 'strict' })((_parent, args: { matcher?: Parameters<typeof silenceCoversSecurity>[0] }, ctx: Context, info) => {
  if (!ctx.viewer) return denyAccess(ctx, info, 'canSilenceAlerts');
  if (ctx.viewer.permissions.has(Permission.ADMIN_ACCESS) || !silenceCoversSecurity(args.matcher ?? {})) return true;
  return denyAccess(ctx, info, 'canSilenceAlerts', 'Silencing security alerts needs the ADMIN_ACCESS permission');
});

/** Whether a viewer (or nobody) holds a permission; for visibility decisions outside shield rules. */
export function can(viewer: Context['viewer'], permission: Permission): boolean {
  return viewer?.permissions.has(permission) ?? false;
}
