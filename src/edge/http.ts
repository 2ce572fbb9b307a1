import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import type { Viewer } from '../context';
import { BadRequestError, dependencyUnavailable, ErrorCode, isPublicError, UnauthenticatedError } from '../errors';
import type { Logger } from '../infra/logger';
import { isDependencyOutage } from '../infra/outage';
import { APPLICATION_JSON, errorBody, refusal, responseContentType, type Refusal } from './errors';
import type { Gate } from './gate';
import type { Caller, GraphQLParams } from './request';

/** Content types a browser sends without a CORS preflight. */
const SIMPLE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

export interface HttpEdgeDeps {
  gate: Gate;
  /** Reads the `Authorization` header: the viewer, null without a token; throws UNAUTHENTICATED for an invalid one. */
  authenticate(authorization: string): Promise<Viewer | null>;
  logger: Logger;
  /** @default '/graphql' */
  graphqlPath?: string;
}

const callers = new WeakMap<FastifyRequest, Caller>();

/** The caller the HTTP edge admitted this request for (its viewer already authenticated once). */
export function callerOf(request: FastifyRequest): Caller | undefined {
  return callers.get(request);
}

/** Sends a refusal as a GraphQL response body, negotiated like any GraphQL response. */
export function sendRefusal(request: FastifyRequest, reply: FastifyReply, r: Refusal): FastifyReply {
  void reply
    .code(r.status)
    .headers(r.headers)
    .header('content-type', `${responseContentType(request.headers.accept) ?? APPLICATION_JSON}; charset=utf-8`);
  return reply.send(JSON.stringify(errorBody([r.error], request.id)));
}

/**
 * Apollo's rule, plus one for bearer tokens: a request a browser would have preflighted — a
 * non-simple `Content-Type`, Apollo's `apollo-require-preflight` / `x-apollo-operation-name`, or an
 * `Authorization` header — cannot be forged cross-site. Cookies carry no credentials here, so an
 * anonymous simple request is refused only because it could be such a forgery.
 */
function isPreflighted(request: FastifyRequest): boolean {
  const h = request.headers;
  if (h.authorization || h['apollo-require-preflight'] || h['x-apollo-operation-name'] || h['graphql-preflight']) return true;
  const contentType = h['content-type'];
  if (!contentType) return false;
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  return !SIMPLE_CONTENT_TYPES.has(media);
}

function parseJsonParam(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value; // Apollo answers BAD_REQUEST for it
  }
}

function persistedHash(raw: { documentId?: unknown; extensions?: unknown }): string | undefined {
  if (typeof raw.documentId === 'string') return raw.documentId.replace(/^sha256:/, '');
  const extensions = parseJsonParam(raw.extensions) as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined;
  const hash = extensions && typeof extensions === 'object' ? extensions.persistedQuery?.sha256Hash : undefined;
  return typeof hash === 'string' ? hash : undefined;
}

/**
 * The fastify adapter of the edge, on the GraphQL route:
 * - `onRequest`: the `Authorization` header is authenticated once (the Apollo context reuses the
 *   viewer) and the caller's request limit is taken — before the body is read, so malformed and
 *   oversized requests count, and a request with an invalid token counts against its IP like an
 *   anonymous one; an invalid token is then answered 401 UNAUTHENTICATED;
 * - `preHandler`: 406 when the client accepts no GraphQL response type, CSRF prevention, batch
 *   refusal, then the gate's document stage (a trusted document named by id is put in place of the
 *   id for Apollo);
 * - `onSend` and the error handler: every error body leaving the route carries
 *   `extensions.code` and `extensions.requestId` and the negotiated content type; a dependency
 *   outage (PostgreSQL, Redis unreachable) is 503 SERVICE_UNAVAILABLE with `Retry-After`.
 * The operation stage runs in the Apollo adapter (`edgePlugin`), where the operation is resolved.
 */
export function registerHttpEdge(app: FastifyInstance, deps: HttpEdgeDeps): void {
  const { gate, logger } = deps;
  const graphqlPath = deps.graphqlPath ?? '/graphql';
  const isGraphql = (request: FastifyRequest) => request.routeOptions.url === graphqlPath;

  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS' || !isGraphql(request)) return;
    const caller: Caller = {
      requestId: request.id,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      viewer: null,
      transport: 'http',
    };
    let invalid: GraphQLError | undefined;
    const authorization = request.headers.authorization;
    if (authorization) {
      try {
        caller.viewer = await deps.authenticate(authorization);
      } catch (error) {
        if (error instanceof UnauthenticatedError || (error instanceof GraphQLError && error.extensions.code === ErrorCode.UNAUTHENTICATED)) {
          invalid = error;
        } else if (isPublicError(error)) {
          if (error.extensions.code !== ErrorCode.SERVICE_UNAVAILABLE) return sendRefusal(request, reply, refusal(error, 400, request.id));
          return sendRefusal(request, reply, refusal(error, 503, request.id, { 'retry-after': String(error.extensions.retryAfter ?? 5) }));
        } else throw error;
      }
    }
    const limited = await gate.admitRequest(caller);
    if (limited) return sendRefusal(request, reply, limited);
    if (invalid) {
      const error = new UnauthenticatedError(invalid.message);
      return sendRefusal(request, reply, refusal(error, 401, request.id, { 'www-authenticate': 'Bearer' }));
    }
    callers.set(request, caller);
  });

  app.addHook('preHandler', async (request, reply) => {
    if (!isGraphql(request) || (request.method !== 'GET' && request.method !== 'POST')) return;
    if (responseContentType(request.headers.accept) === null) {
      const error = new BadRequestError('The Accept header admits neither application/graphql-response+json nor application/json');
      return sendRefusal(request, reply, refusal(error, 406, request.id));
    }
    if (!isPreflighted(request)) {
      const error = new BadRequestError(
        'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Send an Authorization header, ' +
          'a Content-Type other than application/x-www-form-urlencoded, multipart/form-data or text/plain, or apollo-require-preflight: true',
      );
      return sendRefusal(request, reply, refusal(error, 400, request.id));
    }
    const isGet = request.method === 'GET';
    const raw = (isGet ? request.query : request.body) as Record<string, unknown> | null;
    if (Array.isArray(raw)) {
      const error = new BadRequestError('Batched requests are not accepted; send one operation per request');
      return sendRefusal(request, reply, refusal(error, 400, request.id));
    }
    if (!raw || typeof raw !== 'object') return;
    if (isGet && raw.query === undefined && raw.documentId === undefined && raw.extensions === undefined) return;
    const caller = callers.get(request);
    if (!caller) return;

    const hash = persistedHash(raw);
    const params: GraphQLParams = {
      query: typeof raw.query === 'string' ? raw.query : undefined,
      operationName: typeof raw.operationName === 'string' ? raw.operationName : null,
      variables: parseJsonParam(raw.variables),
      hash,
    };
    const verdict = gate.admitDocument(caller, params);
    if (!verdict.ok) return sendRefusal(request, reply, verdict.refusal);
    if (verdict.query !== undefined && verdict.query !== params.query) setDocument(request, raw, verdict.query);
    else if (hash && params.query === undefined && typeof raw.documentId === 'string') setPersistedExtension(request, raw, hash);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!isGraphql(request) || reply.statusCode < 400 || typeof payload !== 'string') return payload;
    if (!String(reply.getHeader('content-type') ?? '').includes('json')) return payload;
    let body: { errors?: { message?: string; extensions?: Record<string, unknown> }[] };
    try {
      body = JSON.parse(payload);
    } catch {
      return payload;
    }
    if (!Array.isArray(body.errors) || body.errors.every((e) => e.extensions?.requestId)) return payload;
    // Apollo's own request errors (a GET without a query, variables that are not a map, …) leave
    // its HTTP layer without passing any plugin: the one error shape is completed here.
    for (const error of body.errors) {
      error.extensions = { code: ErrorCode.BAD_REQUEST, ...error.extensions, requestId: request.id };
    }
    void reply.header('content-type', `${responseContentType(request.headers.accept) ?? APPLICATION_JSON}; charset=utf-8`);
    return JSON.stringify(body);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isDependencyOutage(error)) {
      logger.warn({ err: error, requestId: request.id }, 'a dependency is unavailable');
      const unavailable = dependencyUnavailable();
      return sendRefusal(request, reply, refusal(unavailable, 503, request.id, { 'retry-after': String(unavailable.retryAfter) }));
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) logger.error({ err: error, requestId: request.id }, 'unhandled HTTP error');
    const answer =
      status === 500 ? new GraphQLError('Internal server error', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }) : new BadRequestError(error.message);
    return sendRefusal(request, reply, refusal(answer, status, request.id));
  });
}

/** Puts a trusted document's text in place of whatever named it, without the persisted-query extension. */
function setDocument(request: FastifyRequest, raw: Record<string, unknown>, query: string): void {
  if (request.method === 'POST') {
    raw.query = query;
    delete raw.documentId;
    if (raw.extensions && typeof raw.extensions === 'object') {
      const { persistedQuery: _p, ...rest } = raw.extensions as Record<string, unknown>;
      raw.extensions = rest;
    }
  } else {
    rewriteSearch(request, (search) => {
      search.delete('documentId');
      search.delete('extensions');
      search.set('query', query);
    });
  }
}

/** A `documentId` becomes Apollo's persisted-query extension. */
function setPersistedExtension(request: FastifyRequest, raw: Record<string, unknown>, hash: string): void {
  const persistedQuery = { version: 1, sha256Hash: hash };
  if (request.method === 'POST') {
    const extensions = typeof raw.extensions === 'object' && raw.extensions ? raw.extensions : {};
    raw.extensions = { ...extensions, persistedQuery };
    delete raw.documentId;
  } else {
    rewriteSearch(request, (search) => {
      search.delete('documentId');
      search.set('extensions', JSON.stringify({ persistedQuery }));
    });
  }
}

// Apollo's fastify integration reads GET parameters from the raw URL, not from `request.query`.
function rewriteSearch(request: FastifyRequest, change: (search: URLSearchParams) => void): void {
  const url = new URL(request.raw.url ?? '/', 'http://localhost');
  change(url.searchParams);
  request.raw.url = `${url.pathname}?${url.searchParams.toString()}`;
}
