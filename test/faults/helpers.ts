import WebSocket from 'ws';

/** A raw graphql-transport-ws client, so a test can stop reading from its socket. */
export interface RawSubscriber {
  socket: WebSocket;
  /** Resolves with the close code and reason the server sent (or 1006 when the socket just died). */
  closed: Promise<{ code: number; reason: string }>;
  /** Messages received so far (while the socket is read). */
  messages: Record<string, unknown>[];
}

/** Opens a websocket, sends `connection_init` (with the token, if any) and waits for the ack. */
export async function rawConnection(url: string, token: string | null): Promise<RawSubscriber> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const messages: Record<string, unknown>[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
  socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} }));
  const deadline = Date.now() + 10_000;
  while (!messages.some((m) => m.type === 'connection_ack')) {
    if (Date.now() > deadline) throw new Error(`no connection_ack: ${JSON.stringify(messages)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { socket, closed, messages };
}

/** Opens a raw connection and starts one subscription on it. */
export async function rawSubscriber(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<RawSubscriber> {
  const subscriber = await rawConnection(url, token);
  subscriber.socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
  return subscriber;
}

/**
 * `count` copies of a selection under aliases: each event then carries that many copies of a large
 * field, so a client that does not read fills the loopback socket buffers (tens of megabytes)
 * within a few hundred events and the server-side queue is what holds the rest.
 */
export function aliased(selection: string, count: number): string {
  return Array.from({ length: count }, (_, i) => `a${i}: ${selection}`).join(' ');
}

/** Waits until `condition` holds, checking every 20 ms; fails with `what` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Lets the event loop turn (sockets flush, timers fire) between bursts of work. */
export const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Opens a websocket, sends `connection_init` and resolves with how the server closed it. */
export async function refusedConnection(url: string, token: string | null): Promise<{ code: number; reason: string; acknowledged: boolean }> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  let acknowledged = false;
  socket.on('message', (data) => {
    if ((JSON.parse(data.toString()) as { type?: string }).type === 'connection_ack') acknowledged = true;
  });
  socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })));
  return new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString(), acknowledged })));
}
