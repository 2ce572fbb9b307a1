import { createHash } from 'node:crypto';
import { context as otelContext, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context as OtelContext, type Span } from '@opentelemetry/api';
import type { ExecutionArgs, ExecutionResult, OperationDefinitionNode } from 'graphql';
import { Kind, print } from 'graphql';
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';

/**
 * Vigil's own spans and the trace ids of log lines, through the OpenTelemetry API only: every
 * helper is a no-op (and every wrapper returns what it was given) unless tracing-sdk.ts started the
 * SDK in this process.
 */

/** The instrumentation scope of Vigil's own spans. */
const TRACER_NAME = 'vigil';

let enabled = false;

/** Whether {@link startTracing} turned tracing on in this process. */
export function tracingEnabled(): boolean {
  return enabled;
}

/** Called by {@link startTracing} (tracing-sdk.ts) once the SDK is registered. */
export function markTracingEnabled(): void {
  enabled = true;
}

function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** The active trace and span ids, for log lines and error extensions; undefined outside a span. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  if (!enabled) return undefined;
  const span = trace.getActiveSpan();
  const ids = span?.spanContext();
  return ids && trace.isSpanContextValid(ids) ? { traceId: ids.traceId, spanId: ids.spanId } : undefined;
}

/** Runs `fn` inside `span` (so the SQL and Redis calls it makes are its children) and ends the span with its outcome. */
async function within<T>(span: Span, parent: OtelContext, fn: () => T | Promise<T>, failed: (result: T) => boolean = () => false): Promise<T> {
  try {
    const result = await otelContext.with(trace.setSpan(parent, span), fn);
    if (failed(result)) span.setStatus({ code: SpanStatusCode.ERROR });
    return result;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

const hasErrors = (result: unknown) => Array.isArray((result as ExecutionResult | undefined)?.errors) && (result as ExecutionResult).errors!.length > 0;

/** What a GraphQL operation span says about the operation: never its variables. */
function operationAttributes(name: string | null | undefined, type: string | undefined, documentHash: string | undefined) {
  return {
    'graphql.operation.name': name ?? '',
    'graphql.operation.type': type ?? 'unknown',
    ...(documentHash ? { 'graphql.document.hash': documentHash } : {}),
  };
}

function operationSpan(parent: OtelContext, name: string | null | undefined, type: string | undefined, documentHash: string | undefined): Span {
  return tracer().startSpan(`graphql.operation ${name || type || 'anonymous'}`, { kind: SpanKind.INTERNAL, attributes: operationAttributes(name, type, documentHash) }, parent);
}

/**
 * Wraps Apollo's executor (the gateway interface) so each HTTP operation runs inside a
 * `graphql.operation <name>` span, the child of the request's HTTP span (which continued the
 * incoming `traceparent`). Returned unchanged when tracing is off.
 */
export function tracedGateway(gateway: GatewayInterface): GatewayInterface {
  if (!enabled) return gateway;
  return {
    load: async (options) => {
      const loaded = await gateway.load(options);
      const executor = loaded.executor;
      if (!executor) return loaded;
      const traced: GatewayExecutor = (requestContext) => {
        const parent = otelContext.active();
        const span = operationSpan(parent, requestContext.operationName, requestContext.operation?.operation, requestContext.queryHash);
        return within(span, parent, () => executor(requestContext), hasErrors);
      };
      return { ...loaded, executor: traced };
    },
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
  };
}

/** The trace context each websocket connection's `connection_init` carried, by operation context object. */
const connectionParents = new WeakMap<object, OtelContext>();

/**
 * Remembers the W3C trace context a websocket client sent in its `connection_init` payload
 * (`traceparent`, `tracestate`), so the operations of that connection continue its trace. Returns
 * the operation context unchanged.
 */
export function continueConnectionTrace<T extends object>(operationContext: T, connectionParams: Readonly<Record<string, unknown>> | undefined): T {
  if (!enabled) return operationContext;
  const carrier: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const value = connectionParams?.[key];
    if (typeof value === 'string' && value.length <= 512) carrier[key] = value;
  }
  connectionParents.set(operationContext, propagation.extract(ROOT_CONTEXT, carrier));
  return operationContext;
}

function documentHash(args: ExecutionArgs): string {
  return createHash('sha256').update(print(args.document)).digest('hex');
}

function operationOf(args: ExecutionArgs): OperationDefinitionNode | undefined {
  const operations = args.document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return args.operationName ? operations.find((o) => o.name?.value === args.operationName) : operations[0];
}

/**
 * Wraps graphql-ws's `execute` or `subscribe` so each websocket operation runs inside a
 * `graphql.operation <name>` span whose parent is the connection's `traceparent` (a new trace
 * without one). A subscription's span covers setting up the stream. Unchanged when tracing is off.
 */
export function tracedExecution<F extends (args: ExecutionArgs) => unknown>(run: F): F {
  if (!enabled) return run;
  return ((args: ExecutionArgs) => {
    const remembered = args.contextValue && typeof args.contextValue === 'object' ? connectionParents.get(args.contextValue) : undefined;
    const parent = remembered ?? ROOT_CONTEXT;
    const operation = operationOf(args);
    const span = operationSpan(parent, operation?.name?.value ?? args.operationName, operation?.operation, documentHash(args));
    return within(span, parent, () => run(args) as Promise<unknown>, hasErrors);
  }) as F;
}

/** Records a permission denial as a span of the operation that met it. */
export function traceDenial(rule: string, field: string | null): void {
  if (!enabled) return;
  tracer()
    .startSpan('permission.denied', { attributes: { 'vigil.permission.rule': rule, ...(field ? { 'vigil.permission.field': field } : {}) } })
    .end();
}

const NOT_TRACED = new Set(['constructor', 'start', 'stop', 'then']);

/**
 * A view of `service` whose method calls each run in a span `<name>.<method>` (attributes
 * `vigil.service`, `vigil.method`; never the arguments). Calls go to the service itself, so its
 * private state and `this` are untouched. The service itself when tracing is off.
 */
export function tracedService<T extends object>(service: T, name: string): T {
  if (!enabled) return service;
  return new Proxy(service, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string' || NOT_TRACED.has(property)) return value;
      const method = value as (...args: unknown[]) => unknown;
      return function traced(...args: unknown[]) {
        const parent = otelContext.active();
        // Background work with no request around it makes no trace of its own.
        if (!trace.getSpan(parent)) return method.apply(target, args);
        const span = tracer().startSpan(`${name}.${property}`, { attributes: { 'vigil.service': name, 'vigil.method': property } }, parent);
        let result: unknown;
        try {
          result = otelContext.with(trace.setSpan(parent, span), () => method.apply(target, args));
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
          throw error;
        }
        if (result && typeof (result as Promise<unknown>).then === 'function' && typeof (result as Promise<unknown>).catch === 'function') {
          (result as Promise<unknown>).then(
            () => span.end(),
            (error: unknown) => {
              span.recordException(error as Error);
              span.setStatus({ code: SpanStatusCode.ERROR });
              span.end();
            },
          );
        } else span.end();
        return result;
      };
    },
  });
}
