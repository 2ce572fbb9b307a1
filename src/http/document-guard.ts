import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { getOperationAST, GraphQLError, parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { RequestMeta } from '../context';
import { ErrorCode } from '../errors';
import { analyzeOperation, checkOperationLimits, checkTokens, type OperationLimits } from '../protection/operation-analysis';
import type { SecurityEventRecorder } from '../protection/security-events';
import { lookUpTrustedDocument, type TrustedDocumentManifest } from '../protection/trusted-documents';

/** Characters of document text whose verdict is remembered. */
const PASSED_DOCUMENTS_BYTES = 4_000_000;

export interface DocumentGuardDeps {
  schema: GraphQLSchema;
  limits: OperationLimits;
  /** Present in allow-listed mode. */
  manifest?: TrustedDocumentManifest;
  record: SecurityEventRecorder;
}

/** The GraphQL parameters of a POST body or a GET query string. */
interface GraphQLParams {
  query?: unknown;
  operationName?: unknown;
  extensions?: unknown;
  documentId?: unknown;
}

function metaOf(request: FastifyRequest): RequestMeta {
  return { requestId: request.id, ip: request.ip, userAgent: request.headers['user-agent'] ?? null, operationName: null, actor: null, sessionId: null };
}

function refuse(reply: FastifyReply, request: FastifyRequest, status: number, error: GraphQLError) {
  void reply.code(status).header('content-type', 'application/json; charset=utf-8');
  return reply.send({ errors: [{ message: error.message, extensions: { ...error.extensions, requestId: request.id } }] });
}

function persistedHash(params: GraphQLParams): string | undefined {
  if (typeof params.documentId === 'string') return params.documentId.replace(/^sha256:/, '');
  let extensions = params.extensions;
  if (typeof extensions === 'string') {
    try {
      extensions = JSON.parse(extensions);
    } catch {
      return undefined;
    }
  }
  const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)?.persistedQuery?.sha256Hash;
  return typeof hash === 'string' ? hash : undefined;
}

/**
 * Checks a GraphQL request's document at the HTTP layer, before Apollo parses or validates it
 * (Apollo turns errors thrown from its early hooks into 500s, and validating a huge document is
 * itself the attack): `documentId` becomes Apollo's persisted-query extension; in allow-listed
 * mode only manifest operations pass (their text is substituted for the id); then the token
 * count and the shape limits (depth, aliases, root fields, directives) are enforced. Refusals are
 * QUERY_TOO_COMPLEX (400), PERSISTED_QUERY_NOT_FOUND (400) or FORBIDDEN (403), each a security
 * event. The cost, which needs the variables and the schema, is checked by `limitsPlugin`.
 */
export function registerDocumentGuard(app: FastifyInstance, deps: DocumentGuardDeps): void {
  const shapeLimits: OperationLimits = { ...deps.limits, maxCost: Number.POSITIVE_INFINITY };
  // The verdict depends on the text and operation name alone, and clients repeat their documents:
  // documents that passed are remembered (by text, up to a few megabytes of it) and not lexed,
  // parsed and measured again. Refusals are always worked out anew (and recorded).
  const passed = new LRUCache<string, true>({ maxSize: PASSED_DOCUMENTS_BYTES, sizeCalculation: (_value, key) => key.length || 1 });
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql' || (request.method !== 'GET' && request.method !== 'POST')) return;
    const isGet = request.method === 'GET';
    const params = (isGet ? request.query : request.body) as GraphQLParams | null;
    if (!params || typeof params !== 'object' || Array.isArray(params)) return;
    if (isGet && params.query === undefined && params.documentId === undefined && params.extensions === undefined) return;

    let query = typeof params.query === 'string' ? params.query : undefined;
    const hash = persistedHash(params);
    if (deps.manifest) {
      const operationName = typeof params.operationName === 'string' ? params.operationName : null;
      const lookup = lookUpTrustedDocument(deps.manifest, { hash, query, operationName });
      if (!lookup.ok) {
        deps.record(metaOf(request), { action: 'UNTRUSTED_DOCUMENT', reason: lookup.reason });
        return refuse(reply, request, lookup.error.extensions.code === ErrorCode.FORBIDDEN ? 403 : 400, lookup.error);
      }
      query = lookup.query;
      setDocument(request, params, query);
      return;
    }
    if (hash && query === undefined) {
      if (typeof params.documentId === 'string') setPersistedExtension(request, params, hash);
      return;
    }
    if (query === undefined) return;
    const verdictKey = `${typeof params.operationName === 'string' ? params.operationName : ''}\n${query}`;
    if (passed.has(verdictKey)) return;

    const tooMany = checkTokens(query, deps.limits.maxTokens);
    if (tooMany) {
      deps.record(metaOf(request), { action: 'QUERY_TOO_COMPLEX', reason: tooMany.message, changes: { tokens: tooMany.extensions.tokens } });
      return refuse(reply, request, 400, tooMany);
    }
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: deps.limits.maxTokens });
    } catch {
      return; // Apollo answers the syntax error itself, with its position
    }
    const operation = getOperationAST(document, typeof params.operationName === 'string' ? params.operationName : undefined);
    if (!operation) return;
    const refusal = checkOperationLimits(analyzeOperation(deps.schema, document, operation, undefined, deps.limits.defaultPageSize), shapeLimits);
    if (refusal) {
      const { code: _code, ...figure } = refusal.extensions;
      deps.record(metaOf(request), { action: 'QUERY_TOO_COMPLEX', reason: refusal.message, changes: figure });
      return refuse(reply, request, 400, refusal);
    }
    passed.set(verdictKey, true);
  });
}

function setPersistedExtension(request: FastifyRequest, params: GraphQLParams, hash: string): void {
  const persistedQuery = { version: 1, sha256Hash: hash };
  if (request.method === 'POST') {
    const extensions = typeof params.extensions === 'object' && params.extensions ? params.extensions : {};
    params.extensions = { ...extensions, persistedQuery };
  } else {
    rewriteSearch(request, (search) => {
      search.delete('documentId');
      search.set('extensions', JSON.stringify({ persistedQuery }));
    });
  }
}

/** Puts a manifest document in place of whatever named it, without the persisted-query extension. */
function setDocument(request: FastifyRequest, params: GraphQLParams, query: string): void {
  if (request.method === 'POST') {
    params.query = query;
    delete params.documentId;
    if (params.extensions && typeof params.extensions === 'object') {
      const { persistedQuery: _p, ...rest } = params.extensions as Record<string, unknown>;
      params.extensions = rest;
    }
  } else {
    rewriteSearch(request, (search) => {
      search.delete('documentId');
      search.delete('extensions');
      search.set('query', query);
    });
  }
}

// Apollo's fastify integration reads GET parameters from the raw URL, not from `request.query`.
function rewriteSearch(request: FastifyRequest, change: (search: URLSearchParams) => void): void {
  const url = new URL(request.raw.url ?? '/', 'http://localhost');
  change(url.searchParams);
  request.raw.url = `${url.pathname}?${url.searchParams.toString()}`;
}
