// The fan-out baseline: a bare graphql-ws server broadcasting the same alert payloads, with
// nothing in between (no auth, no database, no permission checks). POST /publish broadcasts.
import { createServer } from 'node:http';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

const schema = buildSchema(`
  type Alert { id: ID! level: String! title: String! message: String source: String! fingerprint: String! status: String! count: Int! firstSeenAt: String! }
  type Query { ok: Boolean }
  type Subscription { alertRaised: Alert! }
`);
const pubsub = createPubSub<{ ALERT: [Record<string, unknown>] }>();
const roots = {
  subscription: {
    alertRaised: async function* () {
      for await (const alert of pubsub.subscribe('ALERT')) yield { alertRaised: alert };
    },
  },
};

const server = createServer((req, res) => {
  let raw = '';
  req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/publish') {
      pubsub.publish('ALERT', JSON.parse(raw) as Record<string, unknown>);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    } else res.writeHead(404).end();
  });
});
const wss = new WebSocketServer({ server, path: '/graphql' });
useServer({ schema, roots }, wss);
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('READY\n'));
process.on('SIGTERM', () => process.exit(0));
