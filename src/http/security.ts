import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import helmet, { type HelmetOptions } from 'helmet';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Config } from '../config';
import { ErrorCode } from '../errors';
import type { RateLimiters } from '../protection/rate-limiters';
import type { SecurityEventRecorder } from '../protection/security-events';
import type { TrustedDocumentManifest } from '../protection/trusted-documents';
import { registerDocumentGuard } from './document-guard';

/** Browser features the gateway's pages never use, denied by `Permissions-Policy`. */
export const PERMISSIONS_POLICY =
  'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()';

/**
 * The Content-Security-Policy of every response: same-origin scripts and styles only (the
 * built-in GraphiQL page loads its bundle from the gateway and needs inline style attributes),
 * fetch and websocket connections to the gateway, no framing, no plugins.
 */
export const CONTENT_SECURITY_POLICY_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'", 'ws:', 'wss:'],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
};

/** What helmet is asked for: its defaults, plus these. */
const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY_DIRECTIVES },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginEmbedderPolicy: false,
};

/** A response that only records the headers set on it, in order, with their casing. */
class HeaderRecorder extends ServerResponse {
  readonly headers: [string, string][] = [];

  constructor() {
    super(new IncomingMessage(new Socket()));
  }

  override setHeader(name: string, value: number | string | readonly string[]): this {
    if (typeof value !== 'string') throw new TypeError(`${name} is not a single string value`);
    this.headers.push([name, value]);
    return this;
  }
}

/**
 * The headers helmet's middleware sets, as `[name, value]` in its order and casing. They are the
 * same on every response (no CSP nonces, no directive functions), so they are worked out once:
 * @fastify/helmet builds a new helmet middleware, CSP parsing included, for every request.
 * (Helmet's only other effect, removing `X-Powered-By`, is moot: nothing sets it.)
 */
function helmetHeaders(): ReadonlyArray<readonly [string, string]> {
  const recorder = new HeaderRecorder();
  helmet(HELMET_OPTIONS)(recorder.req, recorder, (error) => {
    if (error) throw error;
  });
  return recorder.headers;
}

/** Fastify server options of the edge: time to receive a request (slow-loris bodies end with 408). */
export function edgeServerOptions(config: Config): Pick<FastifyServerOptions, 'requestTimeout'> {
  return { requestTimeout: config.protection.requestTimeoutMs };
}

export interface SecurityDeps {
  config: Config;
  schema: GraphQLSchema;
  /** The trusted-documents manifest in allow-listed mode. */
  manifest?: TrustedDocumentManifest;
  limiters: RateLimiters;
  record: SecurityEventRecorder;
}

function isGraphqlRoute(request: FastifyRequest): boolean {
  return request.routeOptions.url === '/graphql';
}

function rateLimitedReply(reply: FastifyReply, requestId: string, retryAfter: number) {
  void reply
    .code(429)
    .header('retry-after', String(retryAfter))
    .header('content-type', 'application/json; charset=utf-8');
  return {
    errors: [{ message: 'Too many requests, retry later', extensions: { code: ErrorCode.RATE_LIMITED, retryAfter, requestId } }],
  };
}

/**
 * The HTTP edge: security headers (helmet: HSTS, nosniff, frame options, referrer policy, CSP,
 * plus `Permissions-Policy`), the CORS allow-list, the per-IP limit of anonymous GraphQL requests
 * (every `/graphql` request without an `Authorization` header counts, malformed ones included;
 * the probes and `/metrics` are other routes and never count), and the document guard
 * (trusted documents, `documentId`, token and shape limits). Register before the routes.
 */
export async function registerSecurity(app: FastifyInstance, deps: SecurityDeps): Promise<void> {
  const { config, limiters, record, schema, manifest } = deps;
  const securityHeaders = helmetHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    // On the raw response, as helmet sets them: a route may still override one with reply.header.
    for (const [name, value] of securityHeaders) reply.raw.setHeader(name, value);
    void reply.header('permissions-policy', PERMISSIONS_POLICY);
    done();
  });
  await app.register(cors, {
    origin: config.corsOrigins.length ? config.corsOrigins : false,
    credentials: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'x-request-id', 'apollo-require-preflight', 'x-apollo-operation-name'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });

  app.addHook('onRequest', async (request, reply) => {
    if (!limiters.enabled || request.method === 'OPTIONS' || !isGraphqlRoute(request)) return;
    if (request.headers.authorization) return;
    const decision = await limiters.anonymous.consume(`ip:${request.ip}`);
    if (decision.allowed) return;
    if (decision.firstRejection) {
      record(
        { requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null, operationName: null, actor: null, sessionId: null },
        { action: 'RATE_LIMITED', reason: `more than ${decision.limit} requests per window (IP)` },
      );
    }
    void reply.send(rateLimitedReply(reply, request.id, decision.retryAfterSeconds));
    return reply;
  });

  registerDocumentGuard(app, { schema, limits: config.protection.limits, manifest, record });
}
