import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createContext, type ContextDeps } from '../context';
import { Permission } from '../permissions/roles';
import { can } from '../permissions/rules';
import { HealthStatus } from '../schema/enums';
import type { ComponentReport, HealthReport } from '../services/health/health-check';

/** `application/health+json` (draft-inadarei-api-health-check). */
export const HEALTH_JSON = 'application/health+json; charset=utf-8';

type HealthJsonStatus = 'pass' | 'warn' | 'fail';

/** One entry of a `checks` array in the health+json format. */
export interface HealthJsonCheck {
  componentId: string;
  componentType: string;
  observedValue?: number;
  observedUnit?: string;
  status: HealthJsonStatus;
  time: string;
  output?: string;
}

/** The health+json document. */
export interface HealthJson {
  status: HealthJsonStatus;
  serviceId: string;
  description: string;
  time: string;
  checks?: Record<string, HealthJsonCheck[]>;
}

const STATUS: Record<HealthStatus, HealthJsonStatus> = {
  [HealthStatus.UP]: 'pass',
  [HealthStatus.DEGRADED]: 'warn',
  [HealthStatus.DOWN]: 'fail',
};

/** What each component measures, as the `component:measurement` key of `checks`. */
const MEASUREMENTS: Record<string, { measurement: string; type: string }> = {
  database: { measurement: 'responseTime', type: 'datastore' },
  redis: { measurement: 'responseTime', type: 'datastore' },
  eventLoop: { measurement: 'delay', type: 'system' },
  memory: { measurement: 'utilization', type: 'system' },
  disk: { measurement: 'free', type: 'system' },
  backups: { measurement: 'age', type: 'component' },
  auditChain: { measurement: 'verificationAge', type: 'component' },
};

function checkEntry(component: ComponentReport, time: string, withOutput: boolean): [string, HealthJsonCheck[]] {
  const known = MEASUREMENTS[component.name] ?? { measurement: 'status', type: 'component' };
  const entry: HealthJsonCheck = {
    componentId: component.name,
    componentType: known.type,
    ...(component.observedValue !== undefined ? { observedValue: component.observedValue, observedUnit: component.observedUnit } : {}),
    status: STATUS[component.status],
    time,
    ...(withOutput && component.detail ? { output: component.detail } : {}),
  };
  return [`${component.name}:${known.measurement}`, [entry]];
}

/**
 * A health report as `application/health+json`: `status` for everyone; `checks` (with observed
 * values and, as `output`, the details) only when `detailed`.
 */
export function toHealthJson(report: HealthReport, detailed: boolean): HealthJson {
  const time = report.checkedAt.toISOString();
  return {
    status: STATUS[report.status],
    serviceId: 'vigil',
    description: 'Vigil GraphQL gateway',
    time,
    ...(detailed ? { checks: Object.fromEntries(report.components.map((c) => checkEntry(c, time, true))) } : {}),
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time comparison of a presented bearer token with the configured one. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = header?.match(/^Bearer\s+(.+)$/i)?.[1] ?? '';
  return timingSafeEqual(digest(presented), digest(token));
}

/**
 * `GET /health` (health+json; checks need an ADMIN_ACCESS bearer token), `GET /metrics`
 * (Prometheus text, optionally behind `VIGIL_METRICS_TOKEN`), and the HTTP request timing that
 * feeds `vigil_http_request_duration_seconds`.
 */
export function registerObservabilityRoutes(app: FastifyInstance, deps: ContextDeps): void {
  const { services, config, logger } = deps;
  const { metrics } = services;

  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/health', async (request, reply) => {
    let detailed = false;
    if (request.headers.authorization) {
      try {
        const ctx = await createContext(deps, { requestId: request.id, ip: request.ip, authorization: request.headers.authorization });
        detailed = can(ctx.viewer, Permission.ADMIN_ACCESS);
      } catch (error) {
        // An invalid or expired token gets what an anonymous caller gets.
        logger.debug({ err: error, requestId: request.id }, 'health: token not accepted');
      }
    }
    const report = await services.health.check();
    const body = toHealthJson(report, detailed);
    void reply
      .code(body.status === 'fail' ? 503 : 200)
      .header('content-type', HEALTH_JSON)
      .header('cache-control', 'no-store');
    return JSON.stringify(body);
  });

  app.get('/metrics', async (request, reply) => {
    const token = config.observability.metricsToken;
    if (token && !bearerMatches(request.headers.authorization, token)) {
      void reply.code(401).header('www-authenticate', 'Bearer realm="metrics"');
      return { error: 'Unauthorized', message: 'GET /metrics needs Authorization: Bearer <VIGIL_METRICS_TOKEN>', requestId: request.id };
    }
    void reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store');
    return metrics.registry.metrics();
  });
}
