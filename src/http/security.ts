import cors from '@fastify/cors';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { ServerOptions } from 'node:http';
import type { Config } from '../config';

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

/**
 * Fastify server options of the edge: time to receive a request (slow-loris bodies end with 408).
 * Node enforces `requestTimeout` only when it checks its connections, every 30 s by default, so a
 * slow body would be cut up to 30 s late: the check runs every tenth of the timeout (at most 1 s).
 */
export function edgeServerOptions(config: Config): Pick<FastifyServerOptions, 'requestTimeout'> & { http?: ServerOptions } {
  const timeoutMs = config.protection.requestTimeoutMs;
  if (timeoutMs <= 0) return { requestTimeout: 0 };
  return { requestTimeout: timeoutMs, http: { connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeoutMs / 10))) } };
}

export interface SecurityDeps {
  config: Config;
}

/**
 * Security headers on every response (helmet: HSTS, nosniff, frame options, referrer policy, CSP,
 * plus `Permissions-Policy`) and the CORS allow-list. Register before the routes; the request
 * admission itself is the edge's (`src/edge/http.ts`).
 */
export async function registerSecurity(app: FastifyInstance, deps: SecurityDeps): Promise<void> {
  const { config } = deps;
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
    allowedHeaders: ['content-type', 'authorization', 'x-request-id', 'apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });
}
