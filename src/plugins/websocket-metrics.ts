import type { ExecutionResult } from 'graphql';
import type { WebSocketServer } from 'ws';
import { closeCodeLabel, type VigilMetrics } from '../infra/metrics';

/**
 * Keeps `vigil_websocket_connections` equal to the sockets open on this server and counts each
 * close in `vigil_websocket_disconnects_total{code}`.
 */
export function observeWebsocketConnections(wsServer: WebSocketServer, metrics: VigilMetrics): void {
  wsServer.on('connection', (socket) => {
    metrics.wsConnections.inc();
    socket.once('close', (code: number) => {
      metrics.wsConnections.dec();
      metrics.wsDisconnects.inc({ code: closeCodeLabel(code) });
    });
  });
}

/**
 * A graphql-ws `onOperation` hook that keeps `vigil_websocket_subscriptions` equal to the active
 * subscription streams: the stream is wrapped so its end (completion, error, client `complete`,
 * socket close) counts down exactly once. A plain iterator, not an async generator, so that
 * `return()` on close takes effect at once instead of waiting for the next event.
 */
export function countSubscriptions(metrics: VigilMetrics) {
  return (_ctx: unknown, _id: string, _payload: unknown, _args: unknown, result: unknown): AsyncIterableIterator<ExecutionResult> | void => {
    if (!result || typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') return;
    const inner = (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
    let open = true;
    const end = () => {
      if (open) metrics.wsSubscriptions.dec();
      open = false;
    };
    metrics.wsSubscriptions.inc();
    const wrapped: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => wrapped,
      async next() {
        try {
          const step = await inner.next();
          if (step.done) end();
          return step;
        } catch (error) {
          end();
          throw error;
        }
      },
      async return(value?: unknown): Promise<IteratorResult<ExecutionResult>> {
        end();
        return (await inner.return?.(value)) ?? { done: true, value: undefined };
      },
      async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
        end();
        if (inner.throw) return inner.throw(error);
        throw error;
      },
    };
    return wrapped;
  };
}
