import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FAVICON_ICO, FAVICON_SVG } from './favicon';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config';
import type { Logger } from '../infra/logger';

/** Where the built pages' assets are served from. */
export const ASSETS_PREFIX = '/_vigil/assets';

/**
 * The policy the pages are built for; sent only when nothing else (helmet) has set one, so the
 * pages are never served without a policy. No inline scripts: configuration reaches the page in
 * `data-` attributes.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export interface UiRoutesDeps {
  config: Pick<Config, 'ui'>;
  logger: Logger;
  /** The GraphQL endpoint's path. @default '/graphql' */
  graphqlPath?: string;
  /** The build output of `npm run build:ui`. @default '<package root>/public' */
  publicDir?: string;
}

interface Asset {
  body: Buffer;
  gzipped: Buffer | null;
  contentType: string;
}

interface UiBuild {
  pages: Record<'graphiql' | 'console', { js: string; css: string | null }>;
  assets: Map<string, Asset>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const DEFAULT_PUBLIC_DIR = path.resolve(__dirname, '..', '..', 'public');

/** Reads the built bundles into memory (they are a few files); null when `npm run build:ui` has not run. */
function loadBuild(publicDir: string): UiBuild | null {
  const manifestFile = path.join(publicDir, 'manifest.json');
  if (!existsSync(manifestFile)) return null;
  const pages = JSON.parse(readFileSync(manifestFile, 'utf8')) as UiBuild['pages'];
  const assetsDir = path.join(publicDir, 'assets');
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(assetsDir)) {
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (!contentType) continue;
    const body = readFileSync(path.join(assetsDir, name));
    const compressible = contentType.includes('charset') || contentType === 'image/svg+xml';
    assets.set(name, { body, gzipped: compressible && body.length > 1024 ? gzipSync(body) : null, contentType });
  }
  return { pages, assets };
}

/**
 * The q-value the Accept header gives a media type: its most specific matching range wins
 * (`text/html` over `text/*` over `*\/*`), 0 when nothing matches.
 */
function quality(accept: string, type: string): number {
  const [major] = type.split('/');
  let best = -1;
  let q = 0;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
    if (specificity <= best) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    best = specificity;
    q = Number.isFinite(value) ? value : 0;
  }
  return q;
}

/**
 * Whether a request's Accept header prefers an HTML page over a GraphQL response: true for a
 * browser navigating (`text/html,…,*\/*;q=0.8`), false for GraphQL clients (`application/json`,
 * `application/graphql-response+json`) and for `*\/*` or no header at all.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = quality(accept, 'text/html');
  if (html <= 0) return false;
  const graphql = Math.max(quality(accept, 'application/json'), quality(accept, 'application/graphql-response+json'));
  return html > graphql;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The start of every page up to `<body`: charset, viewport, no referrer, the title and the icon, then `extra` head lines. */
function pageHead(title: string, extra: string[] = []): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>${title}</title>
    <link rel="icon" href="/favicon.svg" type="image/svg+xml">${extra.map((line) => `\n    ${line}`).join('')}
  </head>`;
}

function page(title: string, assets: { js: string; css: string | null }, graphqlPath: string): string {
  const css = assets.css ? [`<link rel="stylesheet" href="${ASSETS_PREFIX}/${assets.css}">`] : [];
  return `${pageHead(title, [...css, `<script defer src="${ASSETS_PREFIX}/${assets.js}"></script>`])}
  <body data-graphql-path="${escapeAttribute(graphqlPath)}">
    <noscript>This page needs JavaScript.</noscript>
    <div id="root"></div>
  </body>
</html>
`;
}

/** `GET /` for a browser: where things are, without JavaScript. */
function homePage(links: { href: string; label: string; note: string }[]): string {
  const items = links.map((l) => `      <li><a href="${escapeAttribute(l.href)}">${l.label}</a> — ${l.note}</li>`).join('\n');
  return `${pageHead('Vigil')}
  <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5">
    <h1>Vigil</h1>
    <p>A GraphQL gateway for trust-and-safety and security-operations teams. GraphQL is served at <code>POST /graphql</code> (and websockets on the same path).</p>
    <ul>
${items}
    </ul>
  </body>
</html>
`;
}

/**
 * Serves the browser tools from the gateway itself, nothing from a CDN: the GraphQL IDE
 * (GraphiQL) at `GET /graphql` for requests that prefer `text/html` (every other GET stays a
 * GraphQL request), the live console at `GET /console`, and their bundles under
 * `/_vigil/assets/` with content-hashed names and year-long cache headers.
 * Each page is switched by configuration (`VIGIL_GRAPHIQL`, `VIGIL_CONSOLE`); with the IDE off, a
 * browser at `/graphql` gets a plain 404 rather than Apollo's landing page, which loads from a CDN.
 */
export function registerUiRoutes(app: FastifyInstance, deps: UiRoutesDeps): void {
  const { graphiql, console: consoleEnabled } = deps.config.ui;
  const graphqlPath = deps.graphqlPath ?? '/graphql';
  const publicDir = deps.publicDir ?? DEFAULT_PUBLIC_DIR;
  let build: UiBuild | null = null;
  let warned = false;

  const currentBuild = (): UiBuild | null => {
    // A missing build is looked for again on the next request, so `npm run build:ui` needs no restart.
    build ??= loadBuild(publicDir);
    if (!build && !warned) {
      warned = true;
      deps.logger.warn({ publicDir }, 'the browser UI is not built: run `npm run build:ui`');
    }
    return build;
  };

  const sendPage = (reply: FastifyReply, name: 'graphiql' | 'console', title: string) => {
    const ui = currentBuild();
    if (!ui?.pages[name]) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send('The browser UI is not built on this installation: run `npm run build:ui` (or `npm run build`).\n');
    }
    if (!reply.hasHeader('content-security-policy')) void reply.header('content-security-policy', UI_CONTENT_SECURITY_POLICY);
    return reply
      .code(200)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('vary', 'accept')
      .header('x-content-type-options', 'nosniff')
      .send(page(title, ui.pages[name], graphqlPath));
  };

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'GET' || request.routeOptions.url !== graphqlPath) return;
    if (!prefersHtml(request.headers.accept)) return;
    if (graphiql) return sendPage(reply, 'graphiql', 'Vigil — GraphQL IDE');
    // Apollo would otherwise answer a browser with its landing page, which loads from Apollo's CDN.
    return reply
      .code(404)
      .type('text/plain; charset=utf-8')
      .header('vary', 'accept')
      .send('The GraphQL IDE is disabled on this gateway (VIGIL_GRAPHIQL). GraphQL requests are served here.\n');
  });

  if (consoleEnabled) {
    app.get('/console', async (_request, reply) => sendPage(reply, 'console', 'Vigil — live console'));
  }

  const links = [
    ...(graphiql ? [{ href: graphqlPath, label: 'GraphQL IDE', note: 'write and run operations, with the schema documentation' }] : []),
    ...(consoleEnabled ? [{ href: '/console', label: 'Live console', note: 'health and the alert stream' }] : []),
    { href: '/health', label: 'Health', note: 'application/health+json; per-component checks with an admin token' },
    { href: '/docs', label: 'Documentation', note: "the operator's manual (this installation's README)" },
  ];
  const readme = path.join(DEFAULT_PUBLIC_DIR, '..', 'README.md');
  app.get('/docs', async (_request, reply) => {
    if (!existsSync(readme)) return reply.code(404).type('text/plain; charset=utf-8').send('README.md is not part of this installation.\n');
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').send(readFileSync(readme, 'utf8'));
  });
  app.get('/', async (request, reply) => {
    void reply.header('vary', 'accept').header('cache-control', 'no-cache');
    if (!prefersHtml(request.headers.accept)) return reply.send({ name: 'vigil', graphql: graphqlPath, links: links.map(({ href, label }) => ({ href, label })) });
    if (!reply.hasHeader('content-security-policy')) void reply.header('content-security-policy', UI_CONTENT_SECURITY_POLICY);
    return reply.type('text/html; charset=utf-8').send(homePage(links));
  });
  app.get('/favicon.ico', async (_request, reply) =>
    reply.type('image/x-icon').header('cache-control', 'public, max-age=86400').send(FAVICON_ICO),
  );
  app.get('/favicon.svg', async (_request, reply) =>
    reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON_SVG),
  );

  if (graphiql || consoleEnabled) {
    app.get<{ Params: { file: string } }>(`${ASSETS_PREFIX}/:file`, async (request, reply) => {
      const asset = currentBuild()?.assets.get(request.params.file);
      if (!asset) {
        return reply.code(404).send({ error: 'Not Found', message: `no asset ${request.params.file}`, requestId: request.id });
      }
      const gzip = asset.gzipped && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
      void reply
        .type(asset.contentType)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .header('vary', 'accept-encoding');
      if (gzip) void reply.header('content-encoding', 'gzip');
      return reply.send(gzip ? asset.gzipped : asset.body);
    });
  }
}
