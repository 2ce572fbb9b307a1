import { ApolloClient, ApolloLink, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { cacheExchange } from '@urql/exchange-graphcache';
import { Client as UrqlClient, fetchExchange, subscriptionExchange } from '@urql/core';
import { Kind, OperationTypeNode, type DocumentNode } from 'graphql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from '../../src/permissions/roles';
import { HealthStatus } from '../../src/schema/enums';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startTestServer, type TestServer } from '../helpers/server';

const DASHBOARD = gql`
  query Dashboard {
    me { id }
    health { id status }
    investigations(first: 1) { totalCount }
    auditLogs(first: 1) { totalCount }
  }
`;
const FINDING_COUNT = gql`
  query FindingCount($id: ID!) {
    investigation(id: $id) { id updatedAt findings(first: 0) { totalCount } }
  }
`;
const ADD_FINDING = gql`
  mutation AddFinding($id: ID!, $summary: String!) {
    addFinding(investigationId: $id, input: { summary: $summary }) {
      id
      investigation { id updatedAt findings(first: 0) { totalCount } }
    }
  }
`;
const RECENT = gql`
  query Recent { investigations(first: 5) { edges { node { id title } } } }
`;
const ONE = gql`
  query One($id: ID!) { investigation(id: $id) { id title } }
`;
const DELETE_INVESTIGATION = gql`
  mutation DeleteInvestigation($id: ID!) { deleteInvestigationV2(id: $id) { deletedId } }
`;
const SESSIONS = gql`
  query Sessions { mySessions { id current } }
`;
const REVOKE_SESSION = gql`
  mutation RevokeSession($id: ID!) { revokeSessionV2(id: $id) { revokedId } }
`;
type Recent = { investigations?: { edges: { node: { id: string } }[] } };
const recentIds = (data: unknown) => (data as Recent | undefined)?.investigations?.edges.map((e) => e.node.id);
const HEALTH = gql`
  query WatchedHealth { health { id status } }
`;
const HEALTH_CHANGED = gql`
  subscription HealthPushes { healthChanged { id status } }
`;

const isSubscription = (query: DocumentNode) =>
  query.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === OperationTypeNode.SUBSCRIPTION);

/** Resolves with the first value of the (growing) list `accept` takes, or rejects after `ms`. */
function waitFor<T>(values: T[], accept: (value: T, index: number) => boolean, ms = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const check = () => {
      const found = values.find(accept);
      if (found !== undefined) return resolve(found);
      if (Date.now() > deadline) return reject(new Error(`not seen within ${ms} ms: ${JSON.stringify(values)}`));
      setTimeout(check, 20);
    };
    check();
  });
}

/**
 * The frontend clients as teams use them, against a real gateway: Apollo Client 4 with its
 * InMemoryCache, urql with graphcache (no keys, updates or schema configured), both with
 * graphql-ws for subscriptions. The schema alone must let their caches do the right thing; only a
 * deletion takes the one line each client documents for it (`cache.evict`, `cache.invalidate`),
 * fed by the id the deletion answers with.
 */
describe('Apollo Client 4 and urql graphcache against a real gateway', () => {
  let redis: TestRedis;
  let server: TestServer;
  let analyst: string;
  let investigator: string;
  let investigationId: string;
  const sockets: WsClient[] = [];
  const messages: unknown[][] = [];
  const original = { warn: console.warn, error: console.error };

  beforeAll(async () => {
    // A Redis of its own: stopping it makes health DEGRADED, starting it again UP.
    redis = await startRedis();
    // Only Redis moves the status: a busy test machine must not make the database or the event loop slow enough to count.
    server = await startTestServer({
      redis: false,
      env: {
        REDIS_URL: redis.url,
        VIGIL_RATE_LIMIT_ENABLED: 'false',
        VIGIL_HEALTH_INTERVAL_MS: '0',
        VIGIL_HEALTH_DB_LATENCY_DEGRADED_MS: '10000',
        VIGIL_HEALTH_EVENT_LOOP_DEGRADED_MS: '10000',
        VIGIL_HEALTH_EVENT_LOOP_DOWN_MS: '20000',
      },
    });
    analyst = await tokenFor(server, Role.ANALYST);
    investigator = await tokenFor(server, Role.INVESTIGATOR);
    const created = await graphql<{ createInvestigation: { id: string } }>(server.url, `mutation { createInvestigation(input: { title: "cached parent" }) { id } }`, {}, { token: analyst });
    investigationId = created.data!.createInvestigation.id;
    await server.services.health.refresh();
    console.warn = (...args: unknown[]) => messages.push(args);
    console.error = (...args: unknown[]) => messages.push(args);
  }, 120_000);

  afterAll(async () => {
    Object.assign(console, original);
    await Promise.all(sockets.map((s) => s.dispose()));
    await server?.close();
    await redis?.stop();
  });

  const createInvestigation = async (title: string) =>
    (await graphql<{ createInvestigation: { id: string } }>(server.url, `mutation($t: String!) { createInvestigation(input: { title: $t }) { id } }`, { t: title }, { token: investigator }))
      .data!.createInvestigation.id;

  const socket = () => {
    const client = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${analyst}` } });
    sockets.push(client);
    return client;
  };

  /**
   * Watches `health` (`watch` hands each result to `note`) and listens to healthChanged (`listen`)
   * through one client while the health flips UP, DEGRADED, UP: the watched query must show each.
   */
  async function expectPushesToUpdateWatchedHealth(
    watch: (note: (result: { data?: unknown }) => void) => { unsubscribe(): void },
    listen: () => { unsubscribe(): void },
  ): Promise<void> {
    const seen: string[] = [];
    const watched = watch((result) => {
      const status = (result.data as { health?: { status: string } } | undefined)?.health?.status;
      if (status && seen.at(-1) !== status) seen.push(status);
    });
    const pushes = listen();
    try {
      await flipHealth(seen);
      expect(seen).toEqual([HealthStatus.UP, HealthStatus.DEGRADED, HealthStatus.UP]);
    } finally {
      pushes.unsubscribe();
      watched.unsubscribe();
    }
  }

  /** Takes Redis away and back while `watch` holds the statuses a watched health query showed. */
  async function flipHealth(seen: string[]): Promise<void> {
    await waitFor(seen, (s) => s === HealthStatus.UP);
    await redis.stop();
    await server.services.health.refresh();
    await waitFor(seen, (s) => s === HealthStatus.DEGRADED);
    await redis.start();
    const deadline = Date.now() + 20_000;
    while ((await server.services.health.refresh()).status !== HealthStatus.UP && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(seen, (s, i) => s === HealthStatus.UP && i > seen.indexOf(HealthStatus.DEGRADED));
  }

  describe('Apollo Client 4', () => {
    let client: ApolloClient;
    beforeAll(() => {
      const http = new HttpLink({ uri: server.url, headers: { authorization: `Bearer ${analyst}` } });
      const ws = new GraphQLWsLink(socket());
      client = new ApolloClient({ link: ApolloLink.split(({ query }) => isSubscription(query), ws, http), cache: new InMemoryCache() });
    });
    afterAll(() => client?.stop());

    it('keeps me, health and investigations of the ANALYST dashboard when auditLogs is denied', async () => {
      const result = await client.query({ query: DASHBOARD, errorPolicy: 'all' });
      const data = result.data as { me: { id: string }; health: { status: string }; investigations: { totalCount: number }; auditLogs: unknown };
      expect(data.me.id).toBeTruthy();
      expect(data.health.status).toBe(HealthStatus.UP);
      expect(data.investigations.totalCount).toBe(1);
      expect(data.auditLogs).toBeNull();
      expect(CombinedGraphQLErrors.is(result.error)).toBe(true);
      const errors = (result.error as CombinedGraphQLErrors).errors;
      expect(errors.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['auditLogs', 'FORBIDDEN']]);
    });

    it("updates the cached parent's finding count from addFinding's result", async () => {
      const counts: number[] = [];
      const watched = client.watchQuery({ query: FINDING_COUNT, variables: { id: investigationId } }).subscribe((r) => {
        const count = (r.data as { investigation?: { findings: { totalCount: number } } } | undefined)?.investigation?.findings.totalCount;
        if (count !== undefined) counts.push(count);
      });
      try {
        const before = await waitFor(counts, () => true);
        await client.mutate({ mutation: ADD_FINDING, variables: { id: investigationId, summary: 'seen by Apollo' } });
        await waitFor(counts, (c) => c === before + 1);
      } finally {
        watched.unsubscribe();
      }
    });

    it("evicts a deleted investigation with deleteInvestigationV2's answer: the record leaves the cache and a watched list", async () => {
      const id = await createInvestigation('deleted through Apollo');
      const deleter = new ApolloClient({ link: new HttpLink({ uri: server.url, headers: { authorization: `Bearer ${investigator}` } }), cache: new InMemoryCache() });
      const lists: (string[] | undefined)[] = [];
      const watched = deleter.watchQuery({ query: RECENT }).subscribe((r) => lists.push(recentIds(r.data)));
      try {
        await waitFor(lists, (ids) => ids?.[0] === id);
        await deleter.query({ query: ONE, variables: { id } });
        expect((deleter.cache.extract() as Record<string, unknown>)[`Investigation:${id}`]).toBeDefined();
        const result = await deleter.mutate({
          mutation: DELETE_INVESTIGATION,
          variables: { id },
          update(cache, { data }) {
            const deletedId = (data as { deleteInvestigationV2: { deletedId: string } }).deleteInvestigationV2.deletedId;
            cache.evict({ id: cache.identify({ __typename: 'Investigation', id: deletedId }) });
            cache.gc();
          },
        });
        expect(result.data).toEqual({ deleteInvestigationV2: { __typename: 'DeleteInvestigationPayload', deletedId: id } });
        expect((deleter.cache.extract() as Record<string, unknown>)[`Investigation:${id}`]).toBeUndefined();
        expect(deleter.readQuery({ query: ONE, variables: { id } })).toBeNull();
        await waitFor(lists, (ids, i) => i > 0 && ids !== undefined && !ids.includes(id));
      } finally {
        watched.unsubscribe();
        deleter.stop();
      }
    });

    it("drops a revoked session from a watched mySessions with revokeSessionV2's answer", async () => {
      const user = await createUser(server, Role.VIEWER);
      const here = await signIn(server, user.email, user.password);
      await signIn(server, user.email, user.password);
      const own = new ApolloClient({ link: new HttpLink({ uri: server.url, headers: { authorization: `Bearer ${here.accessToken}` } }), cache: new InMemoryCache() });
      const lists: { id: string; current: boolean }[][] = [];
      const watched = own.watchQuery({ query: SESSIONS }).subscribe((r) => {
        const sessions = (r.data as { mySessions?: { id: string; current: boolean }[] } | undefined)?.mySessions;
        if (sessions) lists.push(sessions);
      });
      try {
        const both = await waitFor(lists, (sessions) => sessions.length === 2);
        const other = both.find((s) => !s.current)!.id;
        await own.mutate({
          mutation: REVOKE_SESSION,
          variables: { id: other },
          update(cache, { data }) {
            const { revokedId } = (data as { revokeSessionV2: { revokedId: string } }).revokeSessionV2;
            cache.evict({ id: cache.identify({ __typename: 'Session', id: revokedId }) });
            cache.gc();
          },
        });
        expect((own.cache.extract() as Record<string, unknown>)[`Session:${other}`]).toBeUndefined();
        const after = await waitFor(lists, (sessions) => sessions.length === 1);
        expect(after.map((s) => s.current)).toEqual([true]);
      } finally {
        watched.unsubscribe();
        own.stop();
      }
    });

    it('updates a watched health query from healthChanged pushes (UP, DEGRADED, UP)', async () => {
      await expectPushesToUpdateWatchedHealth(
        (note) => client.watchQuery({ query: HEALTH, fetchPolicy: 'network-only', nextFetchPolicy: 'cache-only' }).subscribe(note),
        () => client.subscribe({ query: HEALTH_CHANGED }).subscribe(() => undefined),
      );
    }, 60_000);
  });

  describe('urql with graphcache', () => {
    let client: UrqlClient;
    beforeAll(() => {
      const ws = socket();
      client = new UrqlClient({
        url: server.url,
        fetchOptions: () => ({ headers: { authorization: `Bearer ${analyst}` } }),
        exchanges: [
          cacheExchange({}),
          fetchExchange,
          subscriptionExchange({
            forwardSubscription: (request) => ({
              subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
            }),
          }),
        ],
      });
    });

    it('keeps me, health and investigations of the ANALYST dashboard when auditLogs is denied', async () => {
      const result = await client.query(DASHBOARD, {}).toPromise();
      const data = result.data as { me: { id: string }; health: { status: string }; investigations: { totalCount: number }; auditLogs: unknown };
      expect(data.me.id).toBeTruthy();
      expect(data.health.status).toBe(HealthStatus.UP);
      expect(data.investigations.totalCount).toBeGreaterThanOrEqual(1);
      expect(data.auditLogs).toBeNull();
      expect(result.error?.graphQLErrors.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['auditLogs', 'FORBIDDEN']]);
    });

    it("updates the cached parent's finding count from addFinding's result", async () => {
      const counts: number[] = [];
      const watched = client.query(FINDING_COUNT, { id: investigationId }).subscribe((r) => {
        const count = (r.data as { investigation?: { findings: { totalCount: number } } } | undefined)?.investigation?.findings.totalCount;
        if (count !== undefined) counts.push(count);
      });
      try {
        const before = await waitFor(counts, () => true);
        const added = await client.mutation(ADD_FINDING, { id: investigationId, summary: 'seen by urql' }).toPromise();
        expect(added.error).toBeUndefined();
        await waitFor(counts, (c) => c === before + 1);
      } finally {
        watched.unsubscribe();
      }
    });

    it("invalidates a deleted investigation with deleteInvestigationV2's answer: the record leaves the cache and a watched list", async () => {
      const id = await createInvestigation('deleted through urql');
      const deleter = new UrqlClient({
        url: server.url,
        fetchOptions: () => ({ headers: { authorization: `Bearer ${investigator}` } }),
        exchanges: [
          cacheExchange({
            updates: {
              Mutation: {
                deleteInvestigationV2: (result, _args, cache) => {
                  const { deletedId } = (result as { deleteInvestigationV2: { deletedId: string } }).deleteInvestigationV2;
                  cache.invalidate({ __typename: 'Investigation', id: deletedId });
                },
              },
            },
          }),
          fetchExchange,
        ],
      });
      const lists: (string[] | undefined)[] = [];
      const watched = deleter.query(RECENT, {}).subscribe((r) => lists.push(recentIds(r.data)));
      try {
        await waitFor(lists, (ids) => ids?.[0] === id);
        expect((await deleter.query(ONE, { id }).toPromise()).data).toMatchObject({ investigation: { id } });
        const deleted = await deleter.mutation(DELETE_INVESTIGATION, { id }).toPromise();
        expect(deleted.error).toBeUndefined();
        expect(deleted.data).toMatchObject({ deleteInvestigationV2: { deletedId: id } });
        expect(deleter.readQuery(ONE, { id }, { requestPolicy: 'cache-only' })?.data?.investigation ?? null).toBeNull();
        await waitFor(lists, (ids, i) => i > 0 && ids !== undefined && !ids.includes(id));
      } finally {
        watched.unsubscribe();
      }
    });

    it('updates a watched health query from healthChanged pushes (UP, DEGRADED, UP)', async () => {
      await expectPushesToUpdateWatchedHealth(
        (note) => client.query(HEALTH, {}, { requestPolicy: 'network-only' }).subscribe(note),
        () => client.subscription(HEALTH_CHANGED, {}).subscribe(() => undefined),
      );
    }, 60_000);
  });

  it('printed no cache warning (or any other) on the way', () => {
    expect(messages).toEqual([]);
  });
});
