import type { Context as WsContext } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { CloseCode } from 'graphql-ws';
import { UnauthenticatedError } from '../errors';
import { closeWebSocket } from '../infra/websocket';
import type { Viewer } from '../context';
import type { Services } from '../services';

type WsExtra = { socket: WebSocket };

/** Node timers overflow past ~24.8 days; a longer session is re-armed in steps. */
const MAX_TIMER_MS = 2_000_000_000;

/** Calls `onExpiry` at `at`; returns a function that cancels it. */
function sessionExpiryTimer(at: Date, onExpiry: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const remaining = at.getTime() - Date.now();
    timer = setTimeout(remaining > MAX_TIMER_MS ? arm : onExpiry, Math.min(Math.max(remaining, 0), MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * graphql-ws hooks for sign-in on websockets: `connection_init` carries
 * `{ authorization: "Bearer <access token>" }`; an invalid, expired or revoked token is refused
 * with 4403 (returning false), none means anonymous. A signed-in connection is registered by
 * session and user so that a revocation or role change anywhere closes it (see
 * `ConnectionRegistry`).
 */
export function websocketAuth(services: Pick<Services, 'auth' | 'connections'>) {
  const registered = new WeakMap<object, () => void>();
  const viewers = new WeakMap<object, Viewer>();
  return {
    /** The viewer a connection signed in as; undefined for an anonymous one. */
    viewerOf: (ctx: object): Viewer | undefined => viewers.get(ctx),
    onConnect: async (ctx: WsContext<Record<string, unknown> | undefined, WsExtra>): Promise<boolean> => {
      const raw = ctx.connectionParams?.authorization;
      if (raw !== undefined && raw !== null && typeof raw !== 'string') return false;
      try {
        const viewer = await services.auth.authenticate(raw ?? null);
        if (viewer) {
          viewers.set(ctx, viewer);
          const socket = ctx.extra.socket;
          const unregister = services.connections.add({
            sessionId: viewer.sessionId,
            userId: viewer.id,
            role: viewer.role,
            close: (code, reason) => closeWebSocket(socket, code, reason),
          });
          // The connection lives no longer than its session: at the session's absolute expiry it
          // is closed, and the client signs in again (a refresh cannot extend a session's lifetime).
          const cancelExpiry = viewer.sessionExpiresAt
            ? sessionExpiryTimer(viewer.sessionExpiresAt, () => closeWebSocket(socket, CloseCode.Forbidden, 'Session expired'))
            : undefined;
          registered.set(ctx, () => {
            cancelExpiry?.();
            unregister();
          });
        }
        return true;
      } catch (error) {
        if (error instanceof UnauthenticatedError) return false;
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
