import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** What a benchmark subscriber does with each event of its subscription. */
export interface SubscriberSink<T> {
  next(data: T | null | undefined, hasErrors: boolean): void;
  error?(): void;
}

/**
 * One graphql-ws client with one subscription, resolved once the connection is acknowledged
 * (no retries: a refused connection fails the scenario).
 */
export function connectSubscriber<T>(wsUrl: string, token: string | undefined, query: string, sink: SubscriberSink<T>): Promise<Client> {
  return new Promise<Client>((resolve, reject) => {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      on: { connected: () => resolve(client), error: reject },
    });
    client.subscribe<T>(
      { query },
      {
        next: ({ data, errors }) => sink.next(data, Boolean(errors?.length)),
        error: () => sink.error?.(),
        complete: () => undefined,
      },
    );
  });
}

/** The p-th percentile of ascending samples, to two decimals (0 without samples). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100;
}
