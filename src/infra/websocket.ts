import type { WebSocket } from 'ws';

/** Application close codes Vigil uses besides graphql-ws's own (`CloseCode`). */
export enum VigilCloseCode {
  /** The client fell too far behind its subscriptions; it may reconnect and resume with `after`. */
  SubscriberTooSlow = 4008,
  /**
   * A dependency (PostgreSQL, Redis) is unavailable or the instance is shutting down: reconnect
   * later. 1013 "Try Again Later" is one of the codes graphql-ws clients retry on (4500 is fatal).
   */
  ServiceUnavailable = 1013,
  /** The client IP or user already holds the most websocket connections allowed; retry later. */
  TooManyConnections = 4029,
  /**
   * The access token expired (at `connection_init`, or while the connection was open: a connection
   * lives as long as its token). Refresh the token and reconnect; graphql-ws clients retry this
   * code, and a `connectionParams` function hands them the fresh token.
   */
  TokenExpired = 4440,
  /**
   * The session ended (signed out, revoked, idle, past its lifetime, refresh-token reuse, account
   * disabled or second factor reset) or the token is not valid: sign in again. graphql-ws clients
   * do not retry 4401.
   */
  SessionEnded = 4401,
  /** The user's rights changed (role): reconnect, and every subscription is checked again. */
  RightsChanged = 4403,
}

/** The reason sent with {@link VigilCloseCode.ServiceUnavailable}: generic, naming no address. */
export const SERVICE_UNAVAILABLE_REASON = 'Service unavailable, retry later';

/**
 * Closes a websocket with a code and reason. A client that stopped reading never sees the close
 * frame (it queues behind the data it did not read), so the socket is destroyed after `graceMs`
 * rather than after ws's own 30 s close timeout.
 */
export function closeWebSocket(socket: WebSocket, code: number, reason: string, graceMs = 5000): void {
  if (socket.readyState === socket.CLOSED) return;
  if (socket.readyState !== socket.CLOSING) socket.close(code, reason.slice(0, 120));
  setTimeout(() => {
    if (socket.readyState !== socket.CLOSED) socket.terminate();
  }, graceMs).unref();
}
