import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GraphQLError, NoSchemaIntrospectionCustomRule, specifiedRules, validate, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { Context as WsContext } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Context, Viewer } from '../context';
import { dependencyUnavailable, ErrorCode, isPublicError, RateLimitedError } from '../errors';
import { isDependencyOutage } from '../infra/outage';
import { closeWebSocket, VigilCloseCode } from '../infra/websocket';
import type { Logger } from '../infra/logger';
import type { SecurityEventRecorder } from '../protection/security-events';
import { withoutSuggestions } from './errors';
import type { Gate } from './gate';
import type { RateLimiters } from './limiters';
import { callerMeta, type Caller } from './request';
import type { EdgeSettingsSource } from './settings';
import type { ReleaseSlot, WebsocketBudget } from './ws-budget';

type WsExtra = { socket: WebSocket; request: IncomingMessage };
type ConnectionContext = WsContext<Record<string, unknown> | undefined, WsExtra>;

interface SubscribePayload {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  extensions?: Record<string, unknown> | null;
}

export interface WebsocketEdgeDeps {
  schema: GraphQLSchema;
  gate: Gate;
  budget: WebsocketBudget;
  limiters: RateLimiters;
  settings: EdgeSettingsSource;
  record: SecurityEventRecorder;
  logger: Logger;
  /** The client's address, through trusted proxies as on HTTP. */
  clientIp(request: IncomingMessage): string;
  /** Builds the context of one operation (authenticating the connection's token). */
  createContext(ctx: ConnectionContext, requestId: string): Promise<Context>;
  /** The viewer the connection signed in as at `connection_init` (from the auth hooks). */
  viewerOf(ctx: ConnectionContext): Viewer | null | undefined;
}

/** The graphql-ws adapter of the edge; see {@link createWebsocketEdge}. */
export interface WebsocketEdge {
  /** Counts and caps connections per IP; call before graphql-ws's `useServer` attaches its own listener. */
  watchConnections(server: WebSocketServer): void;
  /** Runs first at `connection_init`: whether the connection got its IP's slot (closed with 4029 if not). */
  admitted(ctx: ConnectionContext): Promise<boolean>;
  /** Runs after the auth hooks accepted a connection: the per-user connection cap. */
  onConnected(ctx: ConnectionContext): Promise<boolean>;
  onClose(ctx: ConnectionContext): void;
  /** A connection whose token was refused at `connection_init` counts against its IP's request limit, as on HTTP. */
  onRefused(ctx: ConnectionContext): Promise<void>;
  /** graphql-ws `onSubscribe`: the gate's stages for every query, mutation and subscription. */
  onSubscribe(ctx: ConnectionContext, id: string, payload: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[]>;
}

/**
 * The graphql-ws adapter: every `subscribe` message (query, mutation or subscription) passes the
 * same gate as HTTP — the request limit of its caller, the document stage, validation (without
 * name suggestions for callers not allowed to introspect), the operation stage — plus the
 * websocket budgets: subscribe messages per connection, live operations per connection, no new
 * subscription while memory is DOWN, connections per IP and per user (close code 4029). Errors
 * carry `extensions.requestId` like HTTP's.
 */
export function createWebsocketEdge(deps: WebsocketEdgeDeps): WebsocketEdge {
  const { gate, budget, limiters, schema } = deps;
  const connectionIds = new WeakMap<object, string>();
  /** The IP slot of each socket, taken when it connects (the count may ask Redis). */
  const ipSlots = new WeakMap<object, Promise<ReleaseSlot | null>>();
  const userSlots = new WeakMap<object, ReleaseSlot>();
  const admitted = new WeakMap<object, Set<string>>();

  const connectionCaller = (request: IncomingMessage, requestId: string, viewer: Viewer | null = null): Caller => ({
    requestId,
    ip: deps.clientIp(request),
    userAgent: request.headers['user-agent'] ?? null,
    viewer,
    transport: 'websocket',
  });

  const stamp = (errors: readonly GraphQLError[], requestId: string): GraphQLError[] =>
    errors.map((e) => {
      (e.extensions as Record<string, unknown>).requestId = requestId;
      return e;
    });

  return {
    watchConnections(server) {
      server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
        const caller = connectionCaller(request, randomUUID());
        let closed = false;
        socket.once('close', () => {
          closed = true;
          void slot.then((release) => release?.());
        });
        const slot = budget.openConnection(caller).then((release) => {
          if (!release) closeWebSocket(socket, VigilCloseCode.TooManyConnections, 'Too many connections');
          // Closed while the count was asked: give the slot back at once.
          else if (closed) release();
          return release;
        });
        ipSlots.set(socket, slot);
      });
    },

    async admitted(ctx) {
      const slot = ipSlots.get(ctx.extra.socket);
      return slot ? (await slot) !== null : true;
    },

    async onConnected(ctx) {
      const viewer = deps.viewerOf(ctx);
      if (!viewer) return true;
      const caller = connectionCaller(ctx.extra.request, randomUUID(), viewer);
      const release = await budget.openUserConnection(caller, viewer.id);
      if (!release) {
        closeWebSocket(ctx.extra.socket, VigilCloseCode.TooManyConnections, 'Too many connections');
        return false;
      }
      // Closed while the count was asked: onClose has run already.
      if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) {
        release();
        return false;
      }
      userSlots.set(ctx, release);
      return true;
    },

    async onRefused(ctx) {
      await gate.admitRequest(connectionCaller(ctx.extra.request, randomUUID()));
    },

    onClose(ctx) {
      userSlots.get(ctx)?.();
      userSlots.delete(ctx);
    },

    async onSubscribe(ctx, id, payload) {
      const requestId = randomUUID();
      let context: Context;
      try {
        context = await deps.createContext(ctx, requestId);
      } catch (error) {
        if (isPublicError(error)) return stamp([error], requestId);
        if (isDependencyOutage(error)) {
          deps.logger.warn({ err: error, requestId }, 'a dependency is unavailable');
          return stamp([dependencyUnavailable()], requestId);
        }
        deps.logger.error({ err: error, requestId }, 'websocket operation context failed');
        return stamp([new GraphQLError('Internal server error', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } })], requestId);
      }
      const caller = connectionCaller(ctx.extra.request, requestId, context.viewer);

      let connectionId = connectionIds.get(ctx);
      if (!connectionId) {
        connectionId = randomUUID();
        connectionIds.set(ctx, connectionId);
      }
      if (limiters.enabled()) {
        const decision = await limiters.wsSubscribe().consume(connectionId);
        if (!decision.allowed) {
          if (decision.firstRejection) {
            deps.record(callerMeta(caller), { action: 'RATE_LIMITED', reason: `more than ${decision.limit} subscribe messages per window (connection)` });
          }
          return stamp([new RateLimitedError(decision.retryAfterSeconds)], requestId);
        }
      }
      const limited = await gate.admitRequest(caller);
      if (limited) return [limited.error];

      const persisted = payload.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
      const verdict = gate.admitDocument(caller, {
        query: payload.query || undefined,
        operationName: payload.operationName ?? null,
        variables: payload.variables,
        hash: typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined,
      });
      if (!verdict.ok) return [verdict.refusal.error];
      if (!verdict.document) {
        const error = new GraphQLError('PersistedQueryNotFound', { extensions: { code: ErrorCode.PERSISTED_QUERY_NOT_FOUND } });
        return stamp([error], requestId);
      }
      const document = verdict.document;
      const rules = deps.settings().introspection === 'off' ? [...specifiedRules, NoSchemaIntrospectionCustomRule] : specifiedRules;
      const invalid = validate(schema, document, rules);
      if (invalid.length) {
        const quiet = !gate.introspectionAllowed(caller);
        return stamp(
          invalid.map(
            (e) =>
              new GraphQLError(quiet ? withoutSuggestions(e.message) : e.message, {
                nodes: e.nodes,
                extensions: { ...e.extensions, code: ErrorCode.GRAPHQL_VALIDATION_FAILED },
              }),
          ),
          requestId,
        );
      }
      const operation = verdict.operation;
      if (!operation) {
        const message = payload.operationName ? `Unknown operation named "${payload.operationName}".` : 'Must provide operation name if query contains multiple operations.';
        return stamp([new GraphQLError(message, { extensions: { code: ErrorCode.OPERATION_RESOLUTION_FAILURE } })], requestId);
      }
      // Operations admitted on this connection and still running (graphql-ws deletes an id from
      // ctx.subscriptions when its operation ends, however it ends). Counted and reserved in one
      // step, so that simultaneous subscribe messages cannot all pass the same check.
      let running = admitted.get(ctx);
      if (!running) admitted.set(ctx, (running = new Set()));
      for (const key of running) if (!(key in ctx.subscriptions)) running.delete(key);
      const overBudget = budget.admitOperation(caller, operation.operation, running.size);
      if (overBudget) return [overBudget.error];
      running.add(id);
      const operationVerdict = await gate.admitOperation(caller, document, operation, payload.variables);
      if (!operationVerdict.ok) {
        running.delete(id);
        return [operationVerdict.refusal.error];
      }
      context.operationName = operation.name?.value ?? null;
      return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue: context };
    },
  };
}

