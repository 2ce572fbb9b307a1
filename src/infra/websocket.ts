import type { WebSocket } from 'ws';

/** Application close codes Vigil uses besides graphql-ws's own (`CloseCode`). */
export enum VigilCloseCode {
  /** The client fell too far behind its subscriptions; it may reconnect and resume with `after`. */
  SubscriberTooSlow = 4008,
  /** The client IP or user already holds the most websocket connections allowed; retry later. */
  TooManyConnections = 4029,
}

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
