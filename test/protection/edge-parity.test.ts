import { Role } from '../../src/permissions/roles';
import type { Client } from 'graphql-ws';
import { encodeCursor } from '../../src/schema/connection';
import { tokenFor } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/server';
import { codeOf, median, overHttp, overRawWebsocket, overWebsocket, socketClient, underAttack, type Outcome } from './edge-helpers';

/** `query { ...F<n> }` where each fragment spreads the previous one twice: 2^n paths, ~900 bytes at n = 20. */
function doublingChain(n: number): string {
  const fragments = ['fragment F0 on Query { __typename }'];
  for (let i = 1; i <= n; i++) fragments.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
  return `query { ...F${n} } ${fragments.join(' ')}`;
}

/** JSON text of an object nested `depth` levels deep (JSON.stringify itself overflows on it). */
const nestedJson = (depth: number) => `${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}`;

interface Attack {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** The variables as JSON text, for values JSON.stringify cannot write. */
  rawVariables?: string;
  /** HTTP status (400 for edge refusals; 200 for an error the resolver raises). */
  status?: number;
  /** The code both transports answer with. */
  code: string;
  /** Checks beyond the code (same on both transports). */
  check?: (outcome: Outcome) => void;
  /** Sent signed in as a VIEWER. */
  signedIn?: boolean;
}

const costWithDefaults =
  'query Costly($a: Int = 100, $b: Int = 100) { investigations(first: $a) { edges { node { findings(first: $b) { edges { node { id summary } } } } } } }';

const ATTACKS: Attack[] = [
  { name: 'a doubling fragment chain (F20, ~900 bytes)', query: doublingChain(20), code: 'QUERY_TOO_COMPLEX' },
  { name: 'a doubling fragment chain (F40)', query: doublingChain(40), code: 'QUERY_TOO_COMPLEX' },
  { name: 'deep nesting', query: `{ health { ${'a { '.repeat(40)}b${' }'.repeat(40)} } }`, code: 'QUERY_TOO_COMPLEX' },
  { name: 'an alias bomb', query: `{ ${Array.from({ length: 200 }, (_, i) => `a${i}: health { status }`).join(' ')} }`, code: 'QUERY_TOO_COMPLEX' },
  { name: 'a directive flood', query: `{ health ${'@include(if: true) '.repeat(100)}{ status } }`, code: 'QUERY_TOO_COMPLEX' },
  {
    name: 'a token bomb',
    query: `{ ${Array.from({ length: 5000 }, (_, i) => `a${i}: health { status }`).join(' ')} }`,
    code: 'QUERY_TOO_COMPLEX',
    check: (o) => expect(o.errors[0]?.extensions?.tokens).toBeGreaterThan(2500),
  },
  { name: 'too many root fields', query: `{ ${'health { status } '.repeat(20)}}`, code: 'QUERY_TOO_COMPLEX' },
  { name: 'a huge page', query: '{ investigations(first: 100000) { edges { node { id title } } } }', code: 'QUERY_TOO_COMPLEX' },
  {
    name: 'variable defaults that multiply the cost (measured on coerced variables)',
    query: costWithDefaults,
    code: 'QUERY_TOO_COMPLEX',
    check: (o) => expect(o.errors[0]?.extensions?.cost).toBeGreaterThan(20_000),
  },
  {
    name: 'a fragment cycle',
    query: '{ health { ...A } } fragment A on Health { ...B } fragment B on Health { ...A }',
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  {
    name: 'U+0000 in the anonymous login email (variable)',
    query: 'mutation ($email: String!) { login(email: $email, password: "irrelevant-password") { accessToken } }',
    variables: { email: 'admin@example.com\u0000' },
    code: 'BAD_USER_INPUT',
    check: (o) => expect(o.errors[0]?.extensions).toEqual(expect.objectContaining({ field: 'email', variable: 'email' })),
  },
  {
    name: 'U+0000 in an inline literal inside an input object list',
    query: 'mutation { createInvestigation(input: { title: "abc", tags: ["ok", "x\\u0000y"] }) { id } }',
    code: 'BAD_USER_INPUT',
    check: (o) => expect(o.errors[0]?.extensions?.field).toBe('input.tags[1]'),
  },
  {
    name: 'U+0000 in a search variable',
    query: 'query ($f: InvestigationFilter) { investigations(filter: $f) { totalCount } }',
    variables: { f: { search: 'a\u0000' } },
    code: 'BAD_USER_INPUT',
    check: (o) => expect(o.errors[0]?.extensions?.field).toBe('filter.search'),
  },
  {
    name: 'variables nested 6,000 levels deep',
    query: 'mutation ($v: JSON) { raiseAlert(input: { level: INFO, title: "t", labels: $v }) { id } }',
    rawVariables: `{"v":${nestedJson(6000)}}`,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'variables larger than the limit',
    query: 'query ($s: String) { investigations(filter: { search: $s }) { totalCount } }',
    variables: { s: 'x'.repeat(300 * 1024) },
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'a malformed id in an investigations cursor',
    query: 'query ($after: String) { investigations(after: $after) { totalCount } }',
    variables: { after: encodeCursor(['CREATED_AT:DESC', '2026-01-01T00:00:00.000000Z', 'not-a-uuid']) },
    code: 'BAD_USER_INPUT',
    status: 200,
    signedIn: true,
  },
  {
    name: 'a malformed id in an alerts cursor',
    query: 'query ($after: String) { alerts(after: $after) { totalCount } }',
    variables: { after: encodeCursor(['2026-01-01T00:00:00.000Z', "1' or '1'='1"]) },
    code: 'BAD_USER_INPUT',
    status: 200,
    signedIn: true,
  },
  {
    name: 'a misspelled field in production (no suggestion of names)',
    query: '{ investigationz { totalCount } }',
    code: 'GRAPHQL_VALIDATION_FAILED',
    check: (o) => expect(o.errors.map((e) => e.message).join(' ')).not.toMatch(/Did you mean/),
  },
  {
    name: 'introspection while it is off',
    query: '{ __schema { queryType { name } } }',
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
];

describe('the same hostile request gets the same answer over HTTP and the websocket', () => {
  let server: TestServer;
  let token: string;
  let anonymous: Client;
  let viewer: Client;

  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_INTROSPECTION: 'off', VIGIL_MAX_COST: '20000' } });
    token = await tokenFor(server, Role.VIEWER);
    anonymous = socketClient(server.wsUrl);
    viewer = socketClient(server.wsUrl, token);
    // A fresh process compiles its code paths on first use; the latency bound is about the attacks.
    for (const query of ['{ health { status } }', doublingChain(3), `{ ${'health { status } '.repeat(20)}}`]) {
      await overHttp(server.url, { query });
      await overWebsocket(anonymous, { query });
    }
  });
  afterAll(async () => {
    await anonymous.dispose();
    await viewer.dispose();
    await server.close();
  });

  it.each(ATTACKS.map((a) => [a.name, a] as const))('%s', async (_name, attack) => {
    const body = { query: attack.query, variables: attack.variables };
    const raw = attack.rawVariables && `{"query":${JSON.stringify(attack.query)},"variables":${attack.rawVariables}}`;
    const headers: Record<string, string> = attack.signedIn ? { authorization: `Bearer ${token}` } : {};
    const text = raw ?? JSON.stringify(body);
    const viaHttp = () => overHttp(server.url, text, headers);
    // A client of its own: subscribe messages are rate limited per connection.
    const client = socketClient(server.wsUrl, attack.signedIn ? token : undefined);
    const viaWs = () => (raw ? overRawWebsocket(server.wsUrl, raw, attack.signedIn ? token : undefined) : overWebsocket(client, body));
    const http = await viaHttp();
    const ws = await viaWs();
    expect([codeOf(http), codeOf(ws)]).toEqual([attack.code, attack.code]);
    expect(http.status).toBe(attack.status ?? 400);
    for (const outcome of [http, ws]) {
      expect(outcome.errors[0]?.extensions?.requestId).toEqual(expect.any(String));
      attack.check?.(outcome);
    }
    if (http.status === 400) expect(http.data ?? null).toBeNull();

    // The gateway stays responsive while the attack is repeated on both transports, and after:
    // measured against the same load of a harmless query just before (this machine's speed drifts,
    // so no absolute bound); an attack that blocks the event loop makes /healthz tens of times slower.
    const harmless = { query: '{ health { status } }' };
    const baseline = await underAttack(server.url, () => Promise.all([overHttp(server.url, harmless, headers), overWebsocket(client, harmless)]));
    const { during, after } = await underAttack(server.url, () => Promise.all([viaHttp(), viaWs()]));
    await client.dispose();
    // A floor of 2 ms under the baseline keeps sub-millisecond jitter from failing a ratio.
    const base = (ms: number) => Math.max(ms, 2);
    expect(median(during) / base(median(baseline.during))).toBeLessThan(10);
    expect(after / base(baseline.after)).toBeLessThan(10);
  });

  it('runs the same query with explicit small variables (the default values were the attack)', async () => {
    const body = { query: costWithDefaults, variables: { a: 5, b: 5 } };
    const http = await overHttp(server.url, body, { authorization: `Bearer ${token}` });
    const ws = await overWebsocket(viewer, body);
    expect(http.errors).toEqual([]);
    expect(ws.errors).toEqual([]);
  });
});
