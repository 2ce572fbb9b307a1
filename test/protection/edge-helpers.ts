import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** What one operation got back, whatever carried it. */
export interface Outcome {
  status?: number;
  errors: readonly GraphQLFormattedError[];
  data?: unknown;
  /** Set when the socket closed instead of answering. */
  closeCode?: number;
}

export const codeOf = (outcome: Outcome) => outcome.errors[0]?.extensions?.code ?? (outcome.closeCode !== undefined ? `close ${outcome.closeCode}` : undefined);

/** One operation over HTTP POST, the way a browser GraphQL client sends it. */
export async function overHttp(
  url: string,
  body: { query: string; variables?: unknown; operationName?: string } | string,
  headers: Record<string, string> = {},
): Promise<Outcome> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: { data?: unknown; errors?: GraphQLFormattedError[] } = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON answer ${res.status}: ${text.slice(0, 200)}`);
  }
  return { status: res.status, errors: parsed.errors ?? [], data: parsed.data };
}

/** A graphql-ws client without retries; `token` signs it in at connection_init. */
export function socketClient(wsUrl: string, token?: string, headers: Record<string, string> = {}): Client {
  return createClient({
    url: wsUrl,
    retryAttempts: 0,
    lazy: true,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    },
  });
}

/** One operation over a websocket `subscribe` message: its first result, its error, or the socket's close. */
export function overWebsocket(client: Client, body: { query: string; variables?: Record<string, unknown>; operationName?: string }): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      dispose();
      resolve(outcome);
    };
    const dispose = client.subscribe(body, {
      next: (result) => done({ errors: result.errors ?? [], data: result.data }),
      error: (error) => {
        if (Array.isArray(error)) done({ errors: error as GraphQLFormattedError[] });
        else done({ errors: [], closeCode: (error as { code?: number }).code ?? -1 });
      },
      complete: () => done({ errors: [] }),
    });
  });
}

/**
 * One operation as a raw `graphql-transport-ws` exchange, for payloads a client library cannot
 * even serialise (JSON nested thousands of levels deep): `payload` is the subscribe payload's JSON text.
 */
export function overRawWebsocket(wsUrl: string, payload: string, token?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
      if (message.type === 'connection_ack') socket.send(`{"type":"subscribe","id":"1","payload":${payload}}`);
      else if (message.type === 'error') {
        socket.close();
        resolve({ errors: message.payload as GraphQLFormattedError[] });
      } else if (message.type === 'next') {
        socket.close();
        const result = message.payload as { errors?: GraphQLFormattedError[]; data?: unknown };
        resolve({ errors: result.errors ?? [], data: result.data });
      }
    });
    socket.on('close', (code) => resolve({ errors: [], closeCode: code }));
    socket.on('error', reject);
  });
}

/** Milliseconds `/healthz` takes to answer 200 (throws on any other status). */
export async function healthzLatency(baseUrl: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(baseUrl.replace('/graphql', '/healthz'));
  await res.text();
  if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
  return performance.now() - started;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Repeats `attack` (`concurrency` at a time, over and over) while `/healthz` is asked at least
 * `probes` times, then asks it three more times: the latencies during the attack and the best of
 * the three after it. An attack that blocks the event loop keeps it blocked most of the time, so
 * most probes during it are slow.
 */
export async function underAttack(
  baseUrl: string,
  attack: () => Promise<unknown>,
  options: { concurrency?: number; probes?: number } = {},
): Promise<{ during: number[]; after: number }> {
  const { concurrency = 1, probes = 15 } = options;
  const during: number[] = [];
  let running = true;
  const attacker = async () => {
    while (running) await attack();
  };
  const attackers = Promise.all(Array.from({ length: concurrency }, attacker));
  try {
    while (during.length < probes) during.push(await healthzLatency(baseUrl));
  } finally {
    running = false;
    await attackers;
  }
  const after = Math.min(await healthzLatency(baseUrl), await healthzLatency(baseUrl), await healthzLatency(baseUrl));
  return { during, after };
}

/** A raw `graphql-transport-ws` connection: acknowledged, or closed with a code before that. */
export interface RawConnection {
  socket: WebSocket;
  acked: boolean;
  closeCode?: number;
  /** Sends a subscribe message; resolves with its first `next` or `error` payload. */
  subscribe(id: string, query: string): Promise<Outcome>;
  close(): Promise<void>;
}

export function openConnection(wsUrl: string, options: { ip?: string; token?: string } = {}): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: options.ip ? { 'x-forwarded-for': options.ip } : {} });
    const waiting = new Map<string, (outcome: Outcome) => void>();
    const connection: RawConnection = {
      socket,
      acked: false,
      subscribe(id, query) {
        return new Promise((done) => {
          waiting.set(id, done);
          socket.send(JSON.stringify({ type: 'subscribe', id, payload: { query } }));
        });
      },
      close() {
        return new Promise((done) => {
          if (socket.readyState === WebSocket.CLOSED) return done();
          socket.once('close', () => done());
          socket.close(1000);
        });
      },
    };
    socket.on('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: options.token ? { authorization: `Bearer ${options.token}` } : {} })),
    );
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: unknown };
      if (message.type === 'connection_ack') {
        connection.acked = true;
        resolve(connection);
      } else if ((message.type === 'next' || message.type === 'error') && message.id) {
        const done = waiting.get(message.id);
        waiting.delete(message.id);
        const payload = message.payload as { errors?: GraphQLFormattedError[]; data?: unknown } | GraphQLFormattedError[];
        done?.(Array.isArray(payload) ? { errors: payload } : { errors: payload.errors ?? [], data: payload.data });
      }
    });
    socket.on('close', (code) => {
      connection.closeCode = code;
      resolve(connection);
    });
    socket.on('error', reject);
  });
}

// A collector even without --expose-gc, so the heap is measured without garbage in it.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = (global as { gc?: () => void }).gc ?? (runInNewContext('gc') as () => void);

/** The heap in use once pending work settled, after two full collections. */
export async function heapUsed(): Promise<number> {
  await new Promise((r) => setTimeout(r, 200));
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}
