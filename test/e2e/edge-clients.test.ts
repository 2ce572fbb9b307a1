import { ApolloClient, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { cacheExchange, createClient as createUrqlClient, fetchExchange, type Client as UrqlClient } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { Role } from '../../src/permissions/roles';
import { tokenFor } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/server';

const HEALTH = gql`
  query EdgeClientHealth {
    health {
      status
    }
  }
`;
const BIG = gql`
  mutation EdgeClientBig($title: String!) {
    createInvestigation(input: { title: $title }) {
      id
    }
  }
`;
const LOGOUT = gql`
  mutation EdgeClientLogout {
    logout
  }
`;

/** A fetch that sends a broken JSON body, the way a buggy proxy or client might. */
const breakingFetch: typeof fetch = (input, init) =>
  fetch(input, { ...init, body: typeof init?.body === 'string' ? `${init.body.slice(0, -1)},` : init?.body });

/** Every request `fetch` makes, method first. */
function recordingFetch(methods: string[]): typeof fetch {
  return (input, init) => {
    methods.push(init?.method ?? 'GET');
    return fetch(input, init);
  };
}

describe('browser GraphQL clients against a running gateway', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_RATE_LIMIT_USER: '6', VIGIL_BODY_LIMIT_BYTES: '4096' } });
    token = await tokenFor(server, Role.ANALYST);
  });
  afterAll(() => server.close());

  describe('urql (default exchanges: queries as GET)', () => {
    const urql = (options: { token?: string; fetch?: typeof fetch } = {}): UrqlClient =>
      createUrqlClient({
        url: server.url,
        exchanges: [cacheExchange, fetchExchange],
        fetch: options.fetch,
        fetchOptions: () => (options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
        requestPolicy: 'network-only',
      });

    it('runs a signed-in GET query (Authorization makes it CSRF-safe), and an anonymous simple GET stays refused', async () => {
      const methods: string[] = [];
      const signedIn = await urql({ token, fetch: recordingFetch(methods) }).query(HEALTH, {}).toPromise();
      expect(methods).toEqual(['GET']);
      expect(signedIn.error).toBeUndefined();
      expect(signedIn.data).toEqual({ health: expect.objectContaining({ status: expect.any(String) }) });
      const anonymous = await urql().query(HEALTH, {}).toPromise();
      expect(anonymous.error?.graphQLErrors[0]?.extensions).toEqual(expect.objectContaining({ code: 'BAD_REQUEST', requestId: expect.any(String) }));
      expect(anonymous.error?.response?.status).toBe(400);
    });

    it('runs signed-in persisted queries (hash first as GET, then the text once), and refuses them anonymously as GraphQL errors', async () => {
      const persisted = (options: { token?: string; methods: string[] }): UrqlClient =>
        createUrqlClient({
          url: server.url,
          exchanges: [cacheExchange, persistedExchange({ preferGetForPersistedQueries: true }), fetchExchange],
          fetch: recordingFetch(options.methods),
          fetchOptions: () => (options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
          requestPolicy: 'network-only',
        });
      const methods: string[] = [];
      // Its own user: the per-user limit of this server is small, and the other tests spend `token`'s.
      const client = persisted({ token: await tokenFor(server, Role.ANALYST), methods });
      const first = await client.query(HEALTH, {}).toPromise();
      expect(first.error).toBeUndefined();
      expect(first.data).toEqual({ health: expect.objectContaining({ status: expect.any(String) }) });
      // Unknown hash: PersistedQueryNotFound, then the text is sent once and registered.
      expect(methods[0]).toBe('GET');
      const registered = methods.length;
      const again = await client.query(HEALTH, {}).toPromise();
      expect(again.error).toBeUndefined();
      expect(again.data).toEqual(first.data);
      expect(methods.slice(registered)).toEqual(['GET']);

      const anonymous = await persisted({ methods: [] }).query(HEALTH, {}).toPromise();
      expect(anonymous.data ?? null).toBeNull();
      expect(anonymous.error?.graphQLErrors[0]?.extensions).toEqual(expect.objectContaining({ code: 'BAD_REQUEST', requestId: expect.any(String) }));
    });

    it('sees 413 and malformed JSON as GraphQL errors with a code', async () => {
      const client = urql({ token });
      const big = await client.mutation(BIG, { title: 'x'.repeat(8000) }).toPromise();
      expect(big.error?.response?.status).toBe(413);
      expect(big.error?.graphQLErrors[0]?.extensions).toEqual(expect.objectContaining({ code: 'BAD_REQUEST', requestId: expect.any(String) }));
      const broken = await urql({ token, fetch: breakingFetch }).mutation(LOGOUT, {}).toPromise();
      expect(broken.error?.response?.status).toBe(400);
      expect(broken.error?.graphQLErrors[0]?.extensions).toEqual(expect.objectContaining({ code: 'BAD_REQUEST', requestId: expect.any(String) }));
    });
  });

  describe('Apollo Client 4', () => {
    const apollo = (options: { token?: string; fetch?: typeof fetch } = {}) =>
      new ApolloClient({
        link: new HttpLink({ uri: server.url, fetch: options.fetch, headers: options.token ? { authorization: `Bearer ${options.token}` } : {} }),
        cache: new InMemoryCache(),
        defaultOptions: { query: { fetchPolicy: 'network-only' } },
      });

    /** The error a client call rejects with (or resolves with under errorPolicy none). */
    async function errorOf(run: () => Promise<{ error?: unknown }>): Promise<unknown> {
      try {
        return (await run()).error;
      } catch (error) {
        return error;
      }
    }

    it('sees 413, malformed JSON and 429 as GraphQL errors with a code, not as a ServerError', async () => {
      const client = apollo({ token });
      const big = await errorOf(() => client.mutate({ mutation: BIG, variables: { title: 'x'.repeat(8000) } }));
      expect(CombinedGraphQLErrors.is(big)).toBe(true);
      expect((big as CombinedGraphQLErrors).errors[0]?.extensions).toEqual(expect.objectContaining({ code: 'BAD_REQUEST', requestId: expect.any(String) }));

      const broken = await errorOf(() => apollo({ token, fetch: breakingFetch }).mutate({ mutation: LOGOUT }));
      expect(CombinedGraphQLErrors.is(broken)).toBe(true);
      expect((broken as CombinedGraphQLErrors).errors[0]?.extensions?.code).toBe('BAD_REQUEST');

      // A fresh user with the per-user limit of 6 requests per window.
      const limitedToken = await tokenFor(server, Role.VIEWER);
      const limited = apollo({ token: limitedToken });
      let last: unknown;
      for (let i = 0; i < 8; i++) last = await errorOf(() => limited.query({ query: HEALTH }));
      expect(CombinedGraphQLErrors.is(last)).toBe(true);
      expect((last as CombinedGraphQLErrors).errors[0]?.extensions).toEqual(
        expect.objectContaining({ code: 'RATE_LIMITED', retryAfter: expect.any(Number), requestId: expect.any(String) }),
      );
    });

    it('sees a 429 in urql as a GraphQL error too', async () => {
      const limitedToken = await tokenFor(server, Role.VIEWER);
      const client = createUrqlClient({
        url: server.url,
        exchanges: [cacheExchange, fetchExchange],
        fetchOptions: () => ({ headers: { authorization: `Bearer ${limitedToken}` } }),
        requestPolicy: 'network-only',
      });
      let result = await client.query(HEALTH, {}).toPromise();
      for (let i = 0; i < 8 && !result.error; i++) result = await client.query(HEALTH, {}).toPromise();
      expect(result.error?.response?.status).toBe(429);
      expect(result.error?.graphQLErrors[0]?.extensions).toEqual(expect.objectContaining({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) }));
    });
  });
});
