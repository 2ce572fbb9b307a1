import { request } from 'node:http';
import { startTestServer, type TestServer } from '../helpers/server';

/** The security headers, as sent on the wire (name casing included), in the order they are sent. */
const SECURITY_HEADERS: [string, string][] = [
  [
    'Content-Security-Policy',
    "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:;font-src 'self' data:;" +
      "connect-src 'self' ws: wss:;object-src 'none';base-uri 'none';frame-ancestors 'none';form-action 'self'",
  ],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'DENY'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
  [
    'permissions-policy',
    'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()',
  ],
];

/** The pages set `x-content-type-options` themselves (reply.header), which renames helmet's. */
const PAGE_SECURITY_HEADERS = SECURITY_HEADERS.map(([name, value]): [string, string] => [
  name === 'X-Content-Type-Options' ? 'x-content-type-options' : name,
  value,
]);

const WATCHED = new Set([
  ...SECURITY_HEADERS.map(([name]) => name.toLowerCase()),
  'cross-origin-embedder-policy',
  'x-powered-by',
]);

/** Status and the watched headers of a response, read from the raw header list. */
function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: [string, string][] }>((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      res.resume();
      res.on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (WATCHED.has(res.rawHeaders[i]!.toLowerCase())) headers.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        }
        resolve({ status: res.statusCode!, headers });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('security headers', () => {
  let server: TestServer;
  let origin: string;
  const json = { 'content-type': 'application/json', accept: 'application/json', 'apollo-require-preflight': 'true' };
  const healthQuery = JSON.stringify({ query: '{ health { status } }' });

  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_CORS_ORIGINS: 'https://console.example' } });
    origin = server.url.replace(/\/graphql$/, '');
  });
  afterAll(() => server.close());

  it.each([
    ['a GraphQL request', () => send(server.url, { method: 'POST', headers: json, body: healthQuery }), 200],
    ['an unreadable GraphQL body', () => send(server.url, { method: 'POST', headers: json, body: '{not json' }), 400],
    ['a GraphQL request with a bad token', () => send(server.url, { method: 'POST', headers: { ...json, authorization: 'Bearer x' }, body: healthQuery }), 401],
    ['GET /health', () => send(`${origin}/health`), 200],
    ['GET /healthz', () => send(`${origin}/healthz`), 200],
    ['GET /metrics', () => send(`${origin}/metrics`), 200],
    ['an unknown asset', () => send(`${origin}/_vigil/assets/nope.js`), 404],
    ['an unknown route', () => send(`${origin}/nope`), 404],
    [
      'a CORS preflight',
      () => send(server.url, { method: 'OPTIONS', headers: { origin: 'https://console.example', 'access-control-request-method': 'POST' } }),
      204,
    ],
  ])('should send exactly the security headers on %s', async (_name, make, status) => {
    const res = await make();
    expect(res.status).toBe(status);
    expect(res.headers).toEqual(SECURITY_HEADERS);
  });

  it.each([
    ['the IDE page', () => send(server.url, { headers: { accept: 'text/html' } })],
    ['the console page', () => send(`${origin}/console`)],
  ])('should send the security headers on %s, with its own nosniff', async (_name, make) => {
    const res = await make();
    expect(res.status).toBe(200);
    expect(res.headers).toEqual(PAGE_SECURITY_HEADERS);
  });
});
