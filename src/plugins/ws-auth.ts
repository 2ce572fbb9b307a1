import type { Context as WsContext } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { AccessTokenExpiredError, UnauthenticatedError } from '../errors';
import { closeWebSocket, VigilCloseCode } from '../infra/websocket';
import type { Viewer } from '../context';
import type { Services } from '../services';
import { bearerToken } from '../services/auth/tokens';

type WsExtra = { socket: WebSocket };

/** Node timers overflow past ~24.8 days; a later deadline is re-armed in steps. */
const MAX_TIMER_MS = 2_000_000_000;
/** When the session cannot be read at a deadline (database down), it is read again this much later. */
const RECHECK_MS = 5_000;

/** A `connection_init` payload whose authorization is not a string: refused like an invalid token. */
export const MALFORMED = Symbol('malformed authorization');

/**
 * The `authorization` value of a `connection_init` payload: the key in any case, at the top level
 * (`{ authorization }`, `{ Authorization }`) or under `headers` as other gateways accept it
 * (`{ headers: { Authorization } }`). Undefined without one (anonymous).
 */
export function authorizationOf(params: Record<string, unknown> | null | undefined): string | undefined | typeof MALFORMED {
  const value = field(params, 'authorization') ?? field(field(params, 'headers'), 'authorization');
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : MALFORMED;
}

/** An object's property by name, in any letter case. */
function field(object: unknown, name: string): unknown {
  if (!object || typeof object !== 'object' || Array.isArray(object)) return undefined;
  const key = Object.keys(object).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : (object as Record<string, unknown>)[key];
}

/**
 * graphql-ws hooks for sign-in on websockets. `connection_init` carries the access token (see
 * {@link authorizationOf}); none means anonymous. Refusals and ends use distinct close codes:
 * - 4440 {@link VigilCloseCode.TokenExpired}: the access token expired — refresh and reconnect
 *   (at `connection_init`, and on an open connection when its token's time is up);
 * - 4401 {@link VigilCloseCode.SessionEnded}: the token is not valid or the session ended (signed
 *   out, revoked, idle, past its lifetime, account disabled) — sign in again;
 * - 4403 {@link VigilCloseCode.RightsChanged}: the user's role changed — reconnect.
 * A signed-in connection is registered by session and user (see `ConnectionRegistry`), and one
 * timer per connection closes it at the first of: its token's expiry, its session's idle
 * deadline (the session is read again then: requests elsewhere keep it alive), its session's
 * absolute lifetime.
 */
export function websocketAuth(services: Pick<Services, 'auth' | 'connections'>) {
  const registered = new WeakMap<object, () => void>();
  const viewers = new WeakMap<object, Viewer>();

  /** Closes the socket at the first deadline of its token and session; returns the cancel function. */
  const watchLifetime = (socket: WebSocket, viewer: Viewer, tokenExpiresAt: number): (() => void) => {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (at: number) => {
      if (cancelled) return;
      timer = setTimeout(check, Math.min(Math.max(at - Date.now(), 0), MAX_TIMER_MS));
      timer.unref();
    };
    const check = async () => {
      if (cancelled) return;
      const now = Date.now();
      if (tokenExpiresAt <= now) {
        closeWebSocket(socket, VigilCloseCode.TokenExpired, 'Access token expired: refresh it and reconnect');
        return;
      }
      let deadline: Awaited<ReturnType<Services['auth']['sessionDeadline']>>;
      try {
        deadline = await services.auth.sessionDeadline(viewer.sessionId);
      } catch {
        arm(Math.min(tokenExpiresAt, now + RECHECK_MS));
        return;
      }
      if (cancelled) return;
      if (!deadline || deadline.idleAt.getTime() <= Date.now() || deadline.expiresAt.getTime() <= Date.now()) {
        // Revoking publishes the end to every instance, which closes this socket (4401) with the others.
        await services.auth.expireIdleSession(viewer.sessionId).catch(() => undefined);
        closeWebSocket(socket, VigilCloseCode.SessionEnded, 'Session ended: sign in again');
        return;
      }
      arm(Math.min(tokenExpiresAt, deadline.idleAt.getTime(), deadline.expiresAt.getTime()));
    };
    const idleAt = Date.now() + services.auth.settings().sessionIdleTimeoutSeconds * 1000;
    arm(Math.min(tokenExpiresAt, idleAt, viewer.sessionExpiresAt?.getTime() ?? Infinity));
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  };

  return {
    /** The viewer a connection signed in as; undefined for an anonymous one. */
    viewerOf: (ctx: object): Viewer | undefined => viewers.get(ctx),
    onConnect: async (ctx: WsContext<Record<string, unknown> | undefined, WsExtra>): Promise<boolean> => {
      const socket = ctx.extra.socket;
      const raw = authorizationOf(ctx.connectionParams);
      if (raw === MALFORMED) {
        closeWebSocket(socket, VigilCloseCode.SessionEnded, 'The authorization must be "Bearer <access token>"');
        return false;
      }
      try {
        const viewer = await services.auth.authenticate(raw ?? null);
        if (!viewer) return true;
        const claims = await services.auth.tokens.verify(bearerToken(raw)!);
        viewers.set(ctx, viewer);
        const unregister = services.connections.add({
          sessionId: viewer.sessionId,
          userId: viewer.id,
          role: viewer.role,
          mfaEnabled: viewer.mfaEnabled,
          mfaEnrollmentRequired: viewer.mfaEnrollmentRequired,
          close: (code, reason) => closeWebSocket(socket, code, reason),
        });
        const cancel = watchLifetime(socket, viewer, claims.expiresAt.getTime());
        registered.set(ctx, () => {
          cancel();
          unregister();
        });
        return true;
      } catch (error) {
        // The socket is closed here with its own code; graphql-ws's 4403 for `false` comes second and is ignored.
        if (error instanceof AccessTokenExpiredError) {
          closeWebSocket(socket, VigilCloseCode.TokenExpired, 'Access token expired: refresh it and reconnect');
          return false;
        }
        if (error instanceof UnauthenticatedError) {
          closeWebSocket(socket, VigilCloseCode.SessionEnded, 'Session ended or token not valid: sign in again');
          return false;
        }
        throw error;
      }
    },
    onClose: (ctx: WsContext<Record<string, unknown> | undefined, WsExtra>): void => {
      registered.get(ctx)?.();
      registered.delete(ctx);
      viewers.delete(ctx);
    },
  };
}
