// A bare Apollo Server 5 answering `{ hello }`: the GraphQL framework ceiling on this machine.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

async function main(): Promise<void> {
  const server = new ApolloServer({
    typeDefs: 'type Query { hello: String! }',
    resolvers: { Query: { hello: () => 'world' } },
  });
  await startStandaloneServer(server, { listen: { port: Number(process.env.PORT), host: '127.0.0.1' } });
  process.stdout.write('READY\n');
}

void main();
process.on('SIGTERM', () => process.exit(0));
