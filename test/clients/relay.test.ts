import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  commitLocalUpdate,
  commitMutation,
  ConnectionHandler,
  Environment,
  fetchQuery,
  Network,
  RecordSource,
  Store,
  type ConcreteRequest,
  type GraphQLResponse,
  type RecordProxy,
} from 'relay-runtime';
import { Role } from '../../src/permissions/roles';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const COMPILER = path.join(ROOT, 'node_modules/.bin/relay-compiler');

/**
 * relay-compiler 21 compiles the operations in test/clients/relay against the checked-in
 * schema.graphql, without any client schema extension, into a scratch directory; relay-runtime
 * then runs the artifacts against a real gateway.
 */
describe('Relay (relay-compiler 21, relay-runtime) against schema.graphql and a real gateway', () => {
  let dir: string;
  let server: TestServer;
  let token: string;
  const artifacts = new Map<string, ConcreteRequest>();
  const investigations: string[] = [];
  const messages: unknown[][] = [];
  const original = { warn: console.warn, error: console.error };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-relay-'));
    await mkdir(path.join(dir, '__generated__'));
    await writeFile(
      path.join(dir, 'relay.config.json'),
      JSON.stringify({
        src: path.relative(dir, path.join(ROOT, 'test/clients/relay')),
        schema: path.relative(dir, path.join(ROOT, 'schema.graphql')),
        language: 'javascript',
        artifactDirectory: '__generated__',
        eagerEsModules: false,
      }),
    );
    server = await startTestServer({ env: { VIGIL_RATE_LIMIT_ENABLED: 'false', VIGIL_HEALTH_INTERVAL_MS: '0' } });
    token = await tokenFor(server, Role.ANALYST);
    for (let i = 0; i < 5; i++) {
      const created = await graphql<{ createInvestigation: { id: string } }>(
        server.url,
        `mutation($t: String!) { createInvestigation(input: { title: $t }) { id } }`,
        { t: `relay case ${i}` },
        { token },
      );
      const id = created.data!.createInvestigation.id;
      investigations.push(id);
      for (let f = 0; f < 5; f++) {
        await graphql(server.url, `mutation($id: ID!, $s: String!) { addFinding(investigationId: $id, input: { summary: $s }) { id } }`, { id, s: `finding ${f}` }, { token });
      }
    }
    console.warn = (...args: unknown[]) => messages.push(args);
    console.error = (...args: unknown[]) => messages.push(args);
  }, 120_000);

  afterAll(async () => {
    Object.assign(console, original);
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('compiles connections both ways, a @refetchable pagination fragment on Investigation and node lookups', async () => {
    const { stderr, stdout } = await run(COMPILER, [], { cwd: dir });
    expect(`${stdout}${stderr}`).toMatch(/Compilation completed/);
    const files = await readdir(path.join(dir, '__generated__'));
    expect(files).toEqual(
      expect.arrayContaining([
        'operationsInvestigationsQuery.graphql.js',
        'RelayInvestigationsPaginationQuery.graphql.js',
        'RelayInvestigationFindingsPaginationQuery.graphql.js',
        'operationsNodeQuery.graphql.js',
        'operationsNodesQuery.graphql.js',
        'operationsDeleteInvestigationMutation.graphql.js',
      ]),
    );
    for (const file of files) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      artifacts.set(file.replace(/\.graphql\.js$/, ''), require(path.join(dir, '__generated__', file)) as ConcreteRequest);
    }
  }, 60_000);

  const environment = (as = token) =>
    new Environment({
      network: Network.create(async (params, variables) => {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${as}` },
          body: JSON.stringify({ query: params.text, variables }),
        });
        return (await response.json()) as GraphQLResponse;
      }),
      store: new Store(new RecordSource()),
    });

  const request = (name: string) => {
    const artifact = artifacts.get(name);
    if (!artifact) throw new Error(`${name} was not compiled`);
    return artifact;
  };

  /** The edges' node ids of a connection in the store, in order. */
  function connectionIds(env: Environment, parentId: string, key: string): string[] {
    let ids: string[] = [];
    commitLocalUpdate(env, (store) => {
      const parent = store.get(parentId) as RecordProxy;
      const connection = ConnectionHandler.getConnection(parent, key);
      ids = (connection?.getLinkedRecords('edges') ?? []).map((edge) => edge!.getLinkedRecord('node')!.getDataID());
    });
    return ids;
  }

  it('pages investigations forward into one connection (page 1, then page 2 after its end cursor)', async () => {
    const env = environment();
    const first = (await fetchQuery(env, request('operationsInvestigationsQuery'), { first: 2 }).toPromise()) as {
      investigations: { edges: unknown[] };
    };
    expect(first).toBeDefined();
    let endCursor: string | null = null;
    commitLocalUpdate(env, (store) => {
      const connection = ConnectionHandler.getConnection(store.getRoot(), 'operationsInvestigationList_investigations')!;
      endCursor = connection.getLinkedRecord('pageInfo')!.getValue('endCursor') as string;
    });
    expect(endCursor).toBeTruthy();
    await fetchQuery(env, request('RelayInvestigationsPaginationQuery'), { first: 2, after: endCursor }).toPromise();
    const newestFirst = [...investigations].reverse();
    expect(connectionIds(env, 'client:root', 'operationsInvestigationList_investigations')).toEqual(newestFirst.slice(0, 4));
  });

  it('pages investigations backward into one connection (the last page, then the one before it)', async () => {
    const env = environment();
    await fetchQuery(env, request('operationsInvestigationsQuery'), { last: 2 }).toPromise();
    let startCursor: string | null = null;
    let hasPreviousPage = false;
    commitLocalUpdate(env, (store) => {
      const pageInfo = ConnectionHandler.getConnection(store.getRoot(), 'operationsInvestigationList_investigations')!.getLinkedRecord('pageInfo')!;
      startCursor = pageInfo.getValue('startCursor') as string;
      hasPreviousPage = pageInfo.getValue('hasPreviousPage') as boolean;
    });
    expect(hasPreviousPage).toBe(true);
    await fetchQuery(env, request('RelayInvestigationsPaginationQuery'), { last: 2, before: startCursor }).toPromise();
    const newestFirst = [...investigations].reverse();
    expect(connectionIds(env, 'client:root', 'operationsInvestigationList_investigations')).toEqual(newestFirst.slice(1, 5));
  });

  it("pages an investigation's findings through its @refetchable fragment (node(id:)) into one connection", async () => {
    const env = environment();
    await fetchQuery(env, request('operationsInvestigationsQuery'), { first: 1 }).toPromise();
    const id = investigations.at(-1)!;
    expect(connectionIds(env, id, 'operationsInvestigationFindings_findings')).toHaveLength(2);
    let cursor: string | null = null;
    commitLocalUpdate(env, (store) => {
      cursor = ConnectionHandler.getConnection(store.get(id)!, 'operationsInvestigationFindings_findings')!.getLinkedRecord('pageInfo')!.getValue('endCursor') as string;
    });
    await fetchQuery(env, request('RelayInvestigationFindingsPaginationQuery'), { id, count: 2, cursor }).toPromise();
    const ids = connectionIds(env, id, 'operationsInvestigationFindings_findings');
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
  });

  it('looks objects up with node and nodes', async () => {
    const env = environment();
    const one = (await fetchQuery(env, request('operationsNodeQuery'), { id: investigations[0] }).toPromise()) as { node: { __typename: string; id: string; title: string } };
    expect(one.node).toMatchObject({ __typename: 'Investigation', id: investigations[0], title: 'relay case 0' });
    const health = (await fetchQuery(env, request('operationsNodeQuery'), { id: 'Health' }).toPromise()) as { node: { __typename: string; status: string } };
    expect(health.node.__typename).toBe('Health');
    const many = (await fetchQuery(env, request('operationsNodesQuery'), { ids: [investigations[1], 'Health'] }).toPromise()) as { nodes: { id: string }[] };
    expect(many.nodes.map((n) => n.id)).toEqual([investigations[1], 'Health']);
  });

  it("drops a deleted investigation's record (@deleteRecord) and its edge (@deleteEdge) from the store with deleteInvestigationV2's answer", async () => {
    const investigator = await tokenFor(server, Role.INVESTIGATOR);
    const created = await graphql<{ createInvestigation: { id: string } }>(server.url, `mutation { createInvestigation(input: { title: "relay deletes me" }) { id } }`, {}, { token: investigator });
    const id = created.data!.createInvestigation.id;
    const env = environment(investigator);
    const key = 'operationsInvestigationList_investigations';
    await fetchQuery(env, request('operationsInvestigationsQuery'), { first: 3 }).toPromise();
    const newestFirst = [...investigations].reverse();
    expect(connectionIds(env, 'client:root', key)).toEqual([id, ...newestFirst.slice(0, 2)]);
    expect(env.getStore().getSource().get(id)).toBeTruthy();

    const answer = await new Promise<unknown>((resolve, reject) => {
      commitMutation(env, {
        mutation: request('operationsDeleteInvestigationMutation'),
        variables: { id, connections: [ConnectionHandler.getConnectionID('client:root', key)] },
        onCompleted: (response, errors) => (errors?.length ? reject(new Error(JSON.stringify(errors))) : resolve(response)),
        onError: reject,
      });
    });
    expect(answer).toEqual({ deleteInvestigationV2: { edgeId: id, deletedId: id } });
    // A deleted record reads as null; one the store never held as undefined.
    expect(env.getStore().getSource().get(id)).toBeNull();
    expect(connectionIds(env, 'client:root', key)).toEqual(newestFirst.slice(0, 2));
    const gone = await graphql<{ investigation: unknown }>(server.url, 'query($id: ID!) { investigation(id: $id) { id } }', { id }, { token: investigator });
    expect(gone.data?.investigation).toBeNull();
  });

  it('printed no warning while normalising any of it', () => {
    expect(messages).toEqual([]);
  });
});
