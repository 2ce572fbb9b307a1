import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  getOperationAST,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLSchema,
} from 'graphql';
import type { RequestMeta } from '../context';
import { ErrorCode, RateLimitedError } from '../errors';
import { analyzeOperation, checkOperationLimits, checkTokens, type OperationLimits } from './operation-analysis';
import type { RateLimiters } from './rate-limiters';
import type { SecurityEventRecorder } from './security-events';
import { lookUpTrustedDocument, type TrustedDocumentManifest } from './trusted-documents';

export interface WebsocketGuardOptions {
  schema: GraphQLSchema;
  limits: OperationLimits;
  limiters: RateLimiters;
  /** Over websockets introspection is served only when `on` (the viewer is not known yet at this point). */
  introspection: 'on' | 'off' | 'admin';
  manifest?: TrustedDocumentManifest;
  record: SecurityEventRecorder;
}

interface SubscribeContext {
  extra: { request: IncomingMessage };
}

interface SubscribePayloadLike {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  extensions?: Record<string, unknown> | null;
}

/**
 * graphql-ws `onSubscribe`: the websocket side of the protection. Subscribe messages are limited
 * per connection (RATE_LIMITED with `retryAfter`); the document must be trusted in allow-listed
 * mode; it is parsed with the token limit, validated, and measured against the operation limits
 * (QUERY_TOO_COMPLEX) before anything executes. Returns the errors for graphql-ws to send, or the
 * execution arguments it then runs (with the context built as usual).
 */
export function createWebsocketGuard(options: WebsocketGuardOptions) {
  const connectionIds = new WeakMap<object, string>();
  const rules = options.introspection === 'on' ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule];

  return async (ctx: SubscribeContext, _id: string, payload: SubscribePayloadLike): Promise<ExecutionArgs | readonly GraphQLError[]> => {
    const request = ctx.extra.request;
    const meta = (): RequestMeta => ({
      requestId: randomUUID(),
      ip: request.socket.remoteAddress ?? 'unknown',
      userAgent: request.headers['user-agent'] ?? null,
      operationName: payload.operationName ?? null,
      actor: null,
      sessionId: null,
    });
    let connectionId = connectionIds.get(ctx);
    if (!connectionId) {
      connectionId = randomUUID();
      connectionIds.set(ctx, connectionId);
    }
    if (options.limiters.enabled) {
      const decision = await options.limiters.wsSubscribe.consume(connectionId);
      if (!decision.allowed) {
        if (decision.firstRejection) {
          options.record(meta(), { action: 'RATE_LIMITED', reason: `more than ${decision.limit} subscribe messages per window (connection)` });
        }
        return [new RateLimitedError(decision.retryAfterSeconds)];
      }
    }
    let query = payload.query;
    if (options.manifest) {
      const persisted = payload.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
      const lookup = lookUpTrustedDocument(options.manifest, {
        hash: typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined,
        query: query || undefined,
        operationName: payload.operationName,
      });
      if (!lookup.ok) {
        options.record(meta(), { action: 'UNTRUSTED_DOCUMENT', reason: lookup.reason });
        return [lookup.error];
      }
      query = lookup.query;
    }
    const tooMany = checkTokens(query, options.limits.maxTokens);
    if (tooMany) {
      options.record(meta(), { action: 'QUERY_TOO_COMPLEX', reason: tooMany.message });
      return [tooMany];
    }
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: options.limits.maxTokens });
    } catch (error) {
      const message = error instanceof GraphQLError ? error.message : 'Syntax error';
      return [new GraphQLError(message, { extensions: { code: ErrorCode.GRAPHQL_PARSE_FAILED } })];
    }
    const invalid = validate(options.schema, document, rules);
    if (invalid.length) {
      return invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: ErrorCode.GRAPHQL_VALIDATION_FAILED } }));
    }
    const operation = getOperationAST(document, payload.operationName);
    if (operation) {
      const variables = payload.variables ?? undefined;
      const figures = analyzeOperation(options.schema, document, operation, variables, options.limits.defaultPageSize);
      const refusal = checkOperationLimits(figures, options.limits);
      if (refusal) {
        const { code: _code, ...figure } = refusal.extensions;
        options.record(meta(), { action: 'QUERY_TOO_COMPLEX', reason: refusal.message, changes: figure });
        return [refusal];
      }
    }
    return {
      schema: options.schema,
      document,
      operationName: payload.operationName,
      variableValues: payload.variables,
    };
  };
}
