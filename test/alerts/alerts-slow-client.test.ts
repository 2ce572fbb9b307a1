import WebSocket from 'ws';
import { systemMeta } from '../../src/context';
import { AlertLevel } from '../../src/entities/alert.entity';
import { Role } from '../../src/permissions/roles';
import { AlertRaisedDocument } from '../generated/graphql';
import { tokenFor } from '../helpers/auth';
import { subscribe, wsClient } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { QUIET_ENV, capturingLogger, until } from './helpers';

/** A raw graphql-transport-ws client, so the test can stop reading from the socket. */
async function rawSubscriber(url: string, token: string): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await new Promise<void>((resolve, reject) =>
    socket.once('message', (data) => (JSON.parse(data.toString()).type === 'connection_ack' ? resolve() : reject(new Error(data.toString())))),
  );
  // Each event repeats the 10 kB message under 25 aliases: loopback socket buffers can absorb tens
  // of megabytes before a client that does not read holds up the server.
  const query = `subscription { alertRaised { id ${Array.from({ length: 25 }, (_, i) => `m${i}: message`).join(' ')} } }`;
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables: {} } }));
  return { socket, closed };
}

describe('a subscriber that stops reading', () => {
  let server: TestServer;
  const log = capturingLogger('warn');

  beforeAll(async () => {
    server = await startTestServer({ env: { ...QUIET_ENV, VIGIL_WS_MAX_QUEUE: '20' }, logger: log.logger });
  });
  afterAll(() => server?.close());

  it('is disconnected with 4008 "subscriber too slow" while other subscribers keep receiving every alert', async () => {
    const token = await tokenFor(server, Role.VIEWER);
    const healthyClient = wsClient(server.wsUrl, token);
    const healthy = subscribe(healthyClient, AlertRaisedDocument, {});
    const slow = await rawSubscriber(server.wsUrl, token);
    try {
      await until(() => server.services.alerts.feed.subscriberCount === 2, 'both subscriptions to be registered');
      slow.socket.pause();

      // Once the socket buffers are full, the server-side queue grows until it overflows.
      const message = 'x'.repeat(10_000);
      const cut = () => log.lines.some((l) => l.msg === 'subscriber too slow: closing its connection');
      const raisedIds: string[] = [];
      for (let i = 0; i < 5000 && !cut(); i++) {
        const { alert } = await server.services.alerts.raise(systemMeta('test'), { level: AlertLevel.INFO, title: `flood ${i}`, message, source: 'flood' });
        raisedIds.push(alert.id);
        if (i % 50 === 49) await new Promise((r) => setImmediate(r));
      }
      await until(cut, "the slow subscriber to be cut");

      slow.socket.resume();
      expect(await slow.closed).toEqual({ code: 4008, reason: 'subscriber too slow' });
      await until(() => server.services.alerts.feed.subscriberCount === 1, 'the slow subscription to be removed');

      const last = (await server.services.alerts.raise(systemMeta('test'), { level: AlertLevel.WARNING, title: 'after the cut', source: 'flood' })).alert;
      const received: string[] = [];
      for (;;) {
        const { data } = await healthy.next();
        received.push(data!.alertRaised.id);
        if (data!.alertRaised.id === last.id) break;
      }
      expect(received).toEqual([...raisedIds, last.id]);
    } finally {
      slow.socket.terminate();
      await healthy.close();
      await healthyClient.dispose();
    }
  }, 120_000);
});
