import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config';
import type { Context } from '../context';
import { edgeServerOptions, registerSecurity } from '../http/security';
import { CircuitBreaker } from '../infra/circuit-breaker';
import type { Logger } from '../infra/logger';
import type { Redis } from '../infra/redis';
import { RedisKeyValueCache } from '../infra/redis-kv-cache';
import { limitsPlugin } from '../plugins/limits.plugin';
import { rateLimitPlugin } from '../plugins/rate-limit.plugin';
import { createRateLimiters, type RateLimiters } from './rate-limiters';
import { createSecurityEventRecorder, type SecurityEventRecorder } from './security-events';
import { loadManifest, type TrustedDocumentManifest } from './trusted-documents';
import { createWebsocketGuard } from './websocket-guard';
import type { Services } from '../services';

export interface ProtectionDeps {
  config: Config;
  schema: GraphQLSchema;
  logger: Logger;
  services: Pick<Services, 'audit'>;
  redis?: Redis;
}

/** Everything the server wires in to protect itself; see README, "Protection". */
export interface Protection {
  limiters: RateLimiters;
  /** Guards the Redis calls of rate limiting and the APQ cache. */
  redisBreaker: CircuitBreaker;
  record: SecurityEventRecorder;
  manifest?: TrustedDocumentManifest;
  /** Spread into the Fastify constructor options. */
  fastifyOptions: ReturnType<typeof edgeServerOptions>;
  /** Headers, CORS, anonymous per-IP limit, trusted documents and document limits; call right after creating the app. */
  registerHttp(app: FastifyInstance): Promise<void>;
  /** Apollo plugins: per-user and sign-in rate limits, operation limits, cost budget, introspection policy. */
  apolloPlugins: ApolloServerPlugin<Context>[];
  /** Spread into the Apollo options: APQ (Redis-backed when configured), no batching, the token limit. */
  apolloOptions: Pick<ApolloServerOptions<Context>, 'persistedQueries' | 'allowBatchedHttpRequests' | 'parseOptions'>;
  /** graphql-ws `onSubscribe`. */
  onSubscribe: ReturnType<typeof createWebsocketGuard>;
}

/** Builds the gateway's protection from configuration. Reads the trusted-documents manifest when that mode is on. */
export function createProtection(deps: ProtectionDeps): Protection {
  const { config, schema, redis } = deps;
  const p = config.protection;
  const logger = deps.logger.child({ component: 'protection' });
  const redisBreaker = new CircuitBreaker({
    name: 'redis',
    failureThreshold: p.breaker.failureThreshold,
    cooldownMs: p.breaker.cooldownMs,
    callTimeoutMs: p.breaker.callTimeoutMs,
    logger,
  });
  const limiters = createRateLimiters(p, config.redisPrefix, redis, redisBreaker);
  const record = createSecurityEventRecorder(deps.services.audit, logger);
  const manifest = p.trustedDocuments.mode === 'allow-listed' ? loadManifest(p.trustedDocuments.manifestPath) : undefined;
  if (manifest) logger.info({ operations: Object.keys(manifest).length }, 'trusted documents: only registered operations are accepted');

  const apqCache = redis ? new RedisKeyValueCache(redis, `${config.redisPrefix}apq:`, redisBreaker, logger) : undefined;
  return {
    limiters,
    redisBreaker,
    record,
    manifest,
    fastifyOptions: edgeServerOptions(config),
    registerHttp: (app) => registerSecurity(app, { config, schema, manifest, limiters, record }),
    apolloPlugins: [
      rateLimitPlugin(limiters, record),
      limitsPlugin({ limits: p.limits, limiters, introspection: config.introspection, record }),
    ],
    apolloOptions: {
      persistedQueries: p.apq.enabled ? { ...(apqCache ? { cache: apqCache } : {}), ttl: p.apq.ttlSeconds || null } : false,
      allowBatchedHttpRequests: false,
      parseOptions: { maxTokens: p.limits.maxTokens },
    },
    onSubscribe: createWebsocketGuard({
      schema,
      limits: p.limits,
      limiters,
      introspection: config.introspection,
      manifest,
      record,
    }),
  };
}
