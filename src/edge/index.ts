import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config';
import type { Context } from '../context';
import { CircuitBreaker } from '../infra/circuit-breaker';
import type { Logger } from '../infra/logger';
import type { Redis } from '../infra/redis';
import { RedisKeyValueCache } from '../infra/redis-kv-cache';
import { createSecurityEventRecorder, type SecurityEventRecorder } from '../protection/security-events';
import { loadManifest, type TrustedDocumentManifest } from '../protection/trusted-documents';
import type { Services } from '../services';
import { HealthStatus } from '../schema/enums';
import { edgePlugin } from './apollo';
import { createGate, type Gate, type MaintenanceCheck } from './gate';
import { createRateLimiters, type RateLimiters } from './limiters';
import { settingsFromConfig, type EdgeSettingsSource } from './settings';
import { WebsocketBudget } from './ws-budget';
import { SharedConnectionCount } from './ws-shared-count';

export interface EdgeDeps {
  config: Config;
  schema: GraphQLSchema;
  logger: Logger;
  services: Pick<Services, 'audit' | 'health'> & Partial<Pick<Services, 'metrics'>>;
  redis?: Redis;
  /** Where the edge reads its limits; default: the configuration, fixed. Live settings swap this getter. */
  settings?: EdgeSettingsSource;
  /** The cluster-wide maintenance check of mutations; default: never in maintenance. */
  maintenance?: MaintenanceCheck;
}

/** The request edge, built once per server; see README, "Protection". */
export interface Edge {
  gate: Gate;
  settings: EdgeSettingsSource;
  limiters: RateLimiters;
  budget: WebsocketBudget;
  /** Guards the Redis calls of rate limiting and the APQ cache. */
  redisBreaker: CircuitBreaker;
  record: SecurityEventRecorder;
  manifest?: TrustedDocumentManifest;
  /** The Apollo adapter (operation stage, quiet validation messages). */
  apolloPlugins: ApolloServerPlugin<Context>[];
  /** Spread into the Apollo options: APQ (Redis-backed when configured), no batching, the token limit, CSRF (done by the edge). */
  apolloOptions: Pick<ApolloServerOptions<Context>, 'persistedQueries' | 'allowBatchedHttpRequests' | 'parseOptions' | 'csrfPrevention'>;
  /** Stops following the health monitor. */
  stop(): void;
}

/** Builds the edge from configuration: limiters, the gate, the websocket budgets. Reads the trusted-documents manifest in allow-listed mode. */
export function createEdge(deps: EdgeDeps): Edge {
  const { config, schema, redis } = deps;
  const p = config.protection;
  const logger = deps.logger.child({ component: 'edge' });
  const settings = deps.settings ?? settingsFromConfig(config);
  const redisBreaker = new CircuitBreaker({
    name: 'redis',
    failureThreshold: p.breaker.failureThreshold,
    cooldownMs: p.breaker.cooldownMs,
    callTimeoutMs: p.breaker.callTimeoutMs,
    logger,
  });
  const metrics = deps.services.metrics;
  const limiters = createRateLimiters(settings, config.redisPrefix, redis, redisBreaker, metrics && ((scope) => metrics.rateLimited.inc({ scope })));
  const record = createSecurityEventRecorder(deps.services.audit, logger);
  const manifest = p.trustedDocuments.mode === 'allow-listed' ? loadManifest(p.trustedDocuments.manifestPath) : undefined;
  if (manifest) logger.info({ operations: Object.keys(manifest).length }, 'trusted documents: only registered operations are accepted');
  const gate = createGate({ schema, settings, limiters, record, manifest, maintenance: deps.maintenance });
  const shared = redis ? new SharedConnectionCount({ redis, prefix: config.redisPrefix, breaker: redisBreaker, logger, leaseMs: p.websocket.slotLeaseMs }) : undefined;
  const budget = new WebsocketBudget(settings, record, shared, logger);
  const unfollow = deps.services.health.onComponentChange((event) => {
    if (event.component === 'memory') budget.setMemoryDown(event.status === HealthStatus.DOWN);
  });
  const apqCache = redis ? new RedisKeyValueCache(redis, `${config.redisPrefix}apq:`, redisBreaker, logger) : undefined;
  return {
    gate,
    settings,
    limiters,
    budget,
    redisBreaker,
    record,
    manifest,
    apolloPlugins: [edgePlugin(gate)],
    apolloOptions: {
      persistedQueries: p.apq.enabled ? { ...(apqCache ? { cache: apqCache } : {}), ttl: p.apq.ttlSeconds || null } : false,
      allowBatchedHttpRequests: false,
      parseOptions: { maxTokens: p.limits.maxTokens },
      csrfPrevention: false,
    },
    stop: () => {
      unfollow();
      shared?.stop();
    },
  };
}
