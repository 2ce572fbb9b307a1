// PostGraphile v5 (amber preset) on the bench database: the generated-API peer.
// Runs under the Node 22 binary installed in bench/.node22 (PostGraphile 5 needs Node 22);
// NODE_PATH points at bench/.node22/node_modules.
const http = require('node:http');
const { postgraphile } = require('postgraphile');
const { PostGraphileAmberPreset } = require('postgraphile/presets/amber');
const { makePgService } = require('postgraphile/adaptors/pg');
const { grafserv } = require('postgraphile/grafserv/node');

const connectionString = process.env.DATABASE_URL;
const port = Number(process.env.PORT);

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString, schemas: ['public'], poolConfig: { max: 10 } })],
  grafserv: { graphqlPath: '/graphql', watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = http.createServer();
serv.addTo(server).then(() => {
  server.listen(port, '127.0.0.1', () => process.stdout.write('READY\n'));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
