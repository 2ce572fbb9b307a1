import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: GraphQLFormattedError[];
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

/** Sends one operation over HTTP POST, as a browser client would. */
export async function graphql<T = Record<string, unknown>, V = Record<string, unknown>>(
  url: string,
  document: TypedDocumentNode<T, V> | DocumentNode | string,
  variables?: V,
  options: RequestOptions = {},
): Promise<GraphQLResponse<T>> {
  const query = typeof document === 'string' ? document : print(document);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: { data?: T | null; errors?: GraphQLFormattedError[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON response (${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, headers: response.headers, data: body.data, errors: body.errors };
}

/** A graphql-ws client for tests: no retries, closed by `dispose`. */
export function wsClient(url: string, token?: string, extra: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    ...extra,
  });
}

/** A subscription whose events can be awaited one at a time, with a time limit. */
export interface Subscription<T> {
  next(timeoutMs?: number): Promise<{ data?: T | null; errors?: readonly GraphQLFormattedError[] }>;
  close(): Promise<void>;
}

export function subscribe<T = Record<string, unknown>, V = Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<T, V> | DocumentNode | string,
  variables?: V,
): Subscription<T> {
  const query = typeof document === 'string' ? document : print(document);
  const iterator = client.iterate<T>({ query, variables: variables as Record<string, unknown> | undefined });
  return {
    async next(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no subscription event within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const result = await Promise.race([iterator.next(), timeout]);
        if (result.done) throw new Error('subscription completed');
        return result.value;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await iterator.return?.();
    },
  };
}
