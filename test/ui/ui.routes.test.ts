import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { loadConfig } from '../../src/config';
import { HealthDocument } from '../generated/graphql';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { prefersHtml, UI_CONTENT_SECURITY_POLICY } from '../../src/http/ui.routes';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('prefersHtml', () => {
  it.each([
    [BROWSER_ACCEPT, true],
    ['text/html', true],
    ['application/json', false],
    ['application/graphql-response+json, application/json;q=0.9', false],
    ['*/*', false],
    ['', false],
    [undefined, false],
    ['text/html;q=0.5, application/json', false],
    ['text/*, application/json;q=0.5', true],
    ['text/html;q=0', false],
  ])('%j → %s', (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});

function origin(server: TestServer): string {
  return server.url.replace(/\/graphql$/, '');
}

describe('the browser UI routes, IDE on (development default)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ redis: false });
  });
  afterAll(() => server.close());

  it('answers a browser at GET /graphql with the IDE page: no inline script, a content security policy', async () => {
    const res = await fetch(server.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('vary')).toMatch(/accept/i);
    const csp = res.headers.get('content-security-policy');
    expect(csp).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('data-graphql-path="/graphql"');
    expect(html).toMatch(/<script defer src="\/_vigil\/assets\/graphiql-[A-Z0-9]+\.js"><\/script>/);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('keeps GraphQL over GET for GraphQL clients (Accept: application/json)', async () => {
    const res = await fetch(`${server.url}?query=${encodeURIComponent('{ health { status } }')}`, {
      headers: { accept: 'application/graphql-response+json, application/json', 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/json/);
    expect(await res.json()).toEqual({ data: { health: { status: expect.stringMatching(/^(UP|DEGRADED|DOWN)$/) } } });
  });

  it('keeps POST /graphql a GraphQL request whatever the Accept header says', async () => {
    const res = await graphql(server.url, HealthDocument, undefined, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.errors).toBeUndefined();
    expect(res.data?.health.status).toMatch(/^(UP|DEGRADED|DOWN)$/);
  });

  it('serves the console page at GET /console', async () => {
    const res = await fetch(`${origin(server)}/console`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/src="\/_vigil\/assets\/console-[A-Z0-9]+\.js"/);
    expect(html).toMatch(/href="\/_vigil\/assets\/console-[A-Z0-9]+\.css"/);
    expect(res.headers.get('content-security-policy')).toBeTruthy();
  });

  it('serves the hashed assets with year-long immutable caching, gzipped when asked', async () => {
    const html = await (await fetch(`${origin(server)}/console`)).text();
    const js = /src="(\/_vigil\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const plain = await fetch(`${origin(server)}${js}`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = Buffer.from(await plain.arrayBuffer());
    expect(body.length).toBeGreaterThan(10_000);

    const gz = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      const req = request(`${origin(server)}${js}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(gz.encoding).toBe('gzip');
    expect(gunzipSync(gz.body).equals(body)).toBe(true);
  });

  it('answers an unknown or path-escaping asset name with 404', async () => {
    for (const name of ['nope.js', '..%2Fmanifest.json', '..%2F..%2Fpackage.json']) {
      const res = await fetch(`${origin(server)}/_vigil/assets/${name}`);
      expect(res.status).toBe(404);
    }
  });

  it('builds the page policy so that only this gateway can be reached', () => {
    expect(UI_CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(UI_CONTENT_SECURITY_POLICY).toContain("connect-src 'self' ws: wss:");
    expect(UI_CONTENT_SECURITY_POLICY).not.toMatch(/https?:/);
  });
});

describe('the browser UI routes, switched off (the production default for the IDE)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ redis: false, env: { VIGIL_GRAPHIQL: 'false', VIGIL_CONSOLE: 'false' } });
  });
  afterAll(() => server.close());

  it('answers a browser at /graphql with a plain 404 (not a landing page loaded from a CDN)', async () => {
    const res = await fetch(server.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(text).toContain('VIGIL_GRAPHIQL');
    expect(text).not.toMatch(/<script/);
  });

  it('still serves GraphQL over GET and POST', async () => {
    const get = await fetch(`${server.url}?query=${encodeURIComponent('{ health { status } }')}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(await get.json()).toEqual({ data: { health: { status: expect.stringMatching(/^(UP|DEGRADED|DOWN)$/) } } });
    const post = await graphql(server.url, HealthDocument);
    expect(post.errors).toBeUndefined();
    expect(post.data?.health.status).toMatch(/^(UP|DEGRADED|DOWN)$/);
  });

  it('does not serve the console or the assets', async () => {
    expect((await fetch(`${origin(server)}/console`)).status).toBe(404);
    expect((await fetch(`${origin(server)}/_vigil/assets/anything.js`)).status).toBe(404);
  });
});

describe('VIGIL_GRAPHIQL defaults', () => {
  it('is on in development and test, off in production', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).ui).toEqual({ graphiql: true, console: true });
    expect(loadConfig({ NODE_ENV: 'test' }).ui.graphiql).toBe(true);
    const secret = 'x'.repeat(40);
    expect(loadConfig({ NODE_ENV: 'production', VIGIL_JWT_SECRET: secret }).ui.graphiql).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', VIGIL_JWT_SECRET: secret, VIGIL_GRAPHIQL: 'true' }).ui.graphiql).toBe(true);
  });
});
