import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { TracingSettings } from '../config';
import { normalizeStatement } from './slow-statements';
import { markTracingEnabled, tracingEnabled } from './tracing';

/** A running tracer provider; `shutdown` exports what is buffered. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/** Attribute keys that carry a URL: their query string (GraphQL GET variables) never leaves. */
const URL_ATTRIBUTES = ['http.url', 'http.target', 'url.full', 'url.query', 'http.request.header.referer'];

/** Attribute keys that carry SQL text. */
const SQL_ATTRIBUTES = ['db.statement', 'db.query.text'];

/**
 * Takes values out of attributes before a span ends, so no variable value reaches a trace: the
 * query string of URL attributes (a GraphQL GET carries its variables in the URL) and the literals
 * of SQL text (MikroORM inlines parameters into the statements it sends).
 */
const valueScrubber: SpanProcessor = {
  onStart() {},
  onEnding(span) {
    for (const key of SQL_ATTRIBUTES) {
      const value = span.attributes[key];
      if (typeof value === 'string') span.setAttribute(key, normalizeStatement(value));
    }
    for (const key of URL_ATTRIBUTES) {
      const value = span.attributes[key];
      if (typeof value !== 'string') continue;
      if (key === 'url.query') span.setAttribute(key, '[redacted]');
      else if (value.includes('?')) span.setAttribute(key, `${value.slice(0, value.indexOf('?'))}?[redacted]`);
    }
  },
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/**
 * Starts OpenTelemetry tracing when `settings.enabled`: a Node tracer provider (W3C trace context
 * propagation, the SDK's sampler and limits from the OTEL_* variables), spans exported in batches
 * over OTLP/HTTP (protobuf or JSON) or to the console, and the official instrumentations for
 * incoming and outgoing HTTP, PostgreSQL (`pg`: statements with `$n` placeholders, never their
 * values) and Redis (`ioredis`: the command name only, keys and values can be personal data).
 * Must run before `http`, `pg` and `ioredis` are loaded (main.ts imports it first). Returns
 * undefined when tracing is off.
 */
export function startTracing(settings: TracingSettings, serviceVersion?: string): Tracing | undefined {
  if (!settings.enabled || tracingEnabled()) return undefined;
  const exporter =
    settings.exporter === 'console' ? new ConsoleSpanExporter() : settings.protocol === 'http/json' ? new OTLPJsonExporter() : new OTLPProtoExporter();
  const resource = resourceFromAttributes({ 'service.name': 'vigil', ...(serviceVersion ? { 'service.version': serviceVersion } : {}) }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [valueScrubber, new BatchSpanProcessor(exporter)] });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => request.url === '/healthz' || request.url === '/metrics' }),
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  markTracingEnabled();
  return {
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}

