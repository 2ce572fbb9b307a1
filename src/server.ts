import { ApolloServer } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { ExecutionArgs, ExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import { subscribe } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer } from 'ws';
import type { Config } from './config';
import { createContext, requestIdFrom, type Context, type ContextDeps } from './context';
import { ServiceUnavailableError } from './errors';
import { migrate, openOrm, type MikroORM } from './infra/db';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './infra/embedded-postgres';
import { createLogger, type Logger } from './infra/logger';
import { closeWebSocket, SERVICE_UNAVAILABLE_REASON, VigilCloseCode } from './infra/websocket';
import { isDependencyOutage } from './infra/outage';
import { createVigilPubSub, type VigilPubSub } from './infra/pubsub';
import { closeRedis, createRedis, type Redis } from './infra/redis';
import { createFormatError } from './plugins/format-error';
import { continueConnectionTrace, tracedExecution, tracedGateway } from './infra/tracing';
import proxyAddr from '@fastify/proxy-addr';
import { createEdge } from './edge';
import { callerOf, registerHttpEdge } from './edge/http';
import { createWebsocketEdge } from './edge/ws';
import { settingsFromSystemSettings } from './edge/settings';
import { writeAccountingExecute, writeAccountingPlugin } from './edge/writes';
import { edgeServerOptions, registerSecurity } from './http/security';
import { applyResolverTimeout } from './protection/resolver-timeout';
import { httpSubscriptionsPlugin } from './plugins/http-subscriptions.plugin';
import { requestIdPlugin } from './plugins/request-id.plugin';
import { loggingPlugin } from './plugins/logging.plugin';
import { metricsPlugin } from './plugins/metrics.plugin';
import { performancePlugins } from './plugins/performance';
import { countSubscriptions, observeWebsocketConnections } from './plugins/websocket-metrics';
import { registerObservabilityRoutes } from './http/observability.routes';
import { checkStartupSecurity } from './services/security/security-audit';
import { authorizationOf, websocketAuth } from './plugins/ws-auth';
import { firstAdminAnnouncer } from './services/users/first-admin';
import { registerUiRoutes } from './http/ui.routes';
import { buildVigilSchema } from './schema/build';
import { compiledExecutor } from './schema/executor';
import { createServices, startServices, stopServices, type Services } from './services';
import { HealthStatus } from './schema/enums';

/** A running gateway. */
export interface VigilServer {
  /** `http://host:port/graphql` */
  url: string;
  /** `ws://host:port/graphql` */
  wsUrl: string;
  port: number;
  app: FastifyInstance;
  orm: MikroORM;
  services: Services;
  pubsub: VigilPubSub;
  logger: Logger;
  /** Graceful shutdown: stop accepting, drain, close websockets with 1001, close the ORM and databases. */
  stop(): Promise<void>;
}

export interface CreateServerOptions {
  /** A logger to use instead of one on stdout (tests capture output this way). */
  logger?: Logger;
}

/**
 * Builds and starts a gateway: database (embedded when `DATABASE_URL` is unset) and migrations,
 * Redis when configured, services, the schema with its permission map, fastify with Apollo on
 * `/graphql`, graphql-ws on the same port and path, and the probe endpoints. Accepts port 0.
 */
export async function createServer(config: Config, options: CreateServerOptions = {}): Promise<VigilServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => logger.error({ err }, 'shutdown step failed'));
  };

  try {
    checkStartupSecurity(config, logger);
    if (config.env === 'production' && !config.observability.metricsToken) {
      // /metrics names operations, error rates and the instance's internals: in production it is
      // never served without its token.
      throw new Error('VIGIL_METRICS_TOKEN is required in production: GET /metrics is served only with Authorization: Bearer <token>');
    }
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const embedded: EmbeddedDatabase = await startEmbeddedPostgres(config.dataDir, logger);
      cleanups.push(() => embedded.stop());
      databaseUrl = embedded.url;
    }
    const orm = await openOrm(databaseUrl, config.databasePoolMax, logger);
    cleanups.push(() => orm.close(true));
    const applied = await migrate(orm);
    if (applied.length) logger.info({ migrations: applied }, 'applied migrations');

    let redis: Redis | undefined;
    let pubsubRedis: { publish: Redis; subscribe: Redis; prefix: string } | undefined;
    if (config.redisUrl) {
      redis = createRedis(config.redisUrl, logger, 'main');
      const subscriber = createRedis(config.redisUrl, logger, 'subscriber');
      const main = redis;
      cleanups.push(() => closeRedis(main), () => closeRedis(subscriber));
      pubsubRedis = { publish: redis, subscribe: subscriber, prefix: config.redisPrefix };
    }
    const pubsub = createVigilPubSub(pubsubRedis, { logger: logger.child({ component: 'pubsub' }) });
    cleanups.push(async () => pubsub.close());
    const services = createServices({ config, orm, redis, pubsub, logger });
    await services.settings.load();
    await services.users.ensureFirstAdmin(firstAdminAnnouncer(config, logger));
    cleanups.push(() => stopServices(services));

    const schema = await buildVigilSchema();
    const contextDeps: ContextDeps = { orm, services, pubsub, config, logger };
    const formatError = createFormatError(logger, { traceIds: config.env === 'development' });
    applyResolverTimeout(schema, config.protection.resolverTimeoutMs);
    const edge = createEdge({
      config,
      schema,
      logger,
      services,
      redis,
      settings: settingsFromSystemSettings(config, services.settings),
      maintenance: (fields) => services.settings.writes.refusal(fields),
    });
    cleanups.push(async () => edge.stop());

    const app = Fastify({
      logger: false,
      bodyLimit: config.bodyLimitBytes,
      trustProxy: config.trustProxy.length ? config.trustProxy : false,
      ...edgeServerOptions(config),
      requestIdHeader: false,
      genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
      // Requests that arrive while draining get Vigil's own answer (below), not fastify's bare 503.
      return503OnClosing: false,
      forceCloseConnections: 'idle',
    });
    let draining = false;
    app.addHook('onRequest', async (request, reply) => {
      void reply.header('x-request-id', request.id);
      if (!draining) return;
      const unavailable = new ServiceUnavailableError('This instance is shutting down; retry the request', { reason: 'SHUTTING_DOWN', retryAfter: 1 });
      return reply
        .code(503)
        .header('retry-after', String(unavailable.retryAfter))
        .header('connection', 'close')
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify({ errors: [{ message: unavailable.message, extensions: { ...unavailable.extensions, requestId: request.id } }] }));
    });
    // While draining, a keep-alive connection is closed as soon as its request is answered, so the
    // drain ends with the last response instead of at the shutdown timeout.
    app.addHook('onSend', async (_request, reply, payload) => {
      if (draining) void reply.header('connection', 'close');
      return payload;
    });
    await registerSecurity(app, { config });
    registerHttpEdge(app, { gate: edge.gate, authenticate: (authorization) => services.auth.authenticate(authorization), logger });
    app.setNotFoundHandler((request, reply) => {
      void reply.code(404);
      return { error: 'Not Found', message: `${request.method} ${request.url} is not served here`, requestId: request.id };
    });

    registerUiRoutes(app, { config, logger });
    registerObservabilityRoutes(app, contextDeps);
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (_request, reply) => {
      const report = await services.health.check();
      const down = report.components.filter((c) => c.critical && c.status === HealthStatus.DOWN);
      void reply.code(down.length ? 503 : 200);
      return {
        status: down.length ? 'not ready' : 'ready',
        down: down.map((c) => ({ name: c.name, detail: c.detail ?? null })),
      };
    });

    const apollo = new ApolloServer<Context>({
      gateway: tracedGateway(compiledExecutor(schema, { maxOperations: config.compiledOperations })),
      formatError,
      includeStacktraceInErrorResponses: false,
      // Signals are handled in main.ts, which drains and stops everything in order; Apollo's own
      // handlers would stop it early and re-raise the signal.
      stopOnTerminationSignals: false,
      introspection: config.introspection !== 'off',
      plugins: [requestIdPlugin(), httpSubscriptionsPlugin(), metricsPlugin(services.metrics), loggingPlugin(logger, schema), ...edge.apolloPlugins, writeAccountingPlugin(services.settings.writes), ...performancePlugins()],
      ...edge.apolloOptions,
    });
    await apollo.start();
    cleanups.push(() => apollo.stop());

    const httpContext = async (request: FastifyRequest): Promise<Context> =>
      createContext(contextDeps, {
        requestId: request.id,
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
        // Authenticated once by the edge, before the request limit was taken.
        viewer: callerOf(request)?.viewer ?? null,
      });
    app.route({
      method: ['GET', 'POST', 'OPTIONS'],
      url: '/graphql',
      handler: fastifyApolloHandler(apollo, { context: httpContext }),
    });

    const httpErrorListeners = new Set(app.server.listeners('error'));
    const wsServer = new WebSocketServer({ server: app.server, path: '/graphql', maxPayload: config.bodyLimitBytes });
    // ws forwards the HTTP server's own errors (a port in use) to graphql-ws, which prints them as an
    // "Internal error … check your implementation" stack; listen() already reports them, once.
    for (const listener of app.server.listeners('error')) if (!httpErrorListeners.has(listener)) app.server.removeListener('error', listener as (...args: unknown[]) => void);
    observeWebsocketConnections(wsServer, services.metrics);
    const formatResult = (result: ExecutionResult, requestId: string | undefined): ExecutionResult => {
      if (!result.errors?.length) return result;
      const errors = result.errors.map((e) => {
        const formatted = formatError(e.toJSON(), e);
        return requestId ? { ...formatted, extensions: { ...formatted.extensions, requestId } } : formatted;
      });
      return { ...result, errors: errors as unknown as GraphQLError[] };
    };
    const trusted = proxyAddr.compile(config.trustProxy);
    const clientIp = (request: IncomingMessage) => proxyAddr(request, trusted);
    const auth = websocketAuth(services);
    const wsEdge = createWebsocketEdge({
      schema,
      gate: edge.gate,
      budget: edge.budget,
      limiters: edge.limiters,
      settings: edge.settings,
      record: edge.record,
      logger,
      clientIp,
      viewerOf: (ctx) => auth.viewerOf(ctx),
      createContext: async (ctx, requestId) => {
        const request = ctx.extra.request;
        const raw = authorizationOf(ctx.connectionParams);
        const authorization = typeof raw === 'string' ? raw : null;
        const context = await createContext(contextDeps, {
          requestId,
          ip: clientIp(request),
          userAgent: request.headers['user-agent'] ?? null,
          authorization,
          websocket: true,
        });
        // Assigned, not spread: the context's lazy properties are getters of its class (see createContext).
        const operationContext = Object.assign(context, { closeConnection: (code: number, reason: string) => closeWebSocket(ctx.extra.socket, code, reason) });
        return continueConnectionTrace(operationContext, ctx.connectionParams);
      },
    });
    wsEdge.watchConnections(wsServer);
    const requestIdOf = (args: ExecutionArgs) => (args.contextValue as Context | undefined)?.requestId;
    const wsDisposable = useServer<Record<string, unknown>, { requestId: string }>(
      {
        schema,
        execute: tracedExecution(writeAccountingExecute(services.settings.writes)),
        subscribe: tracedExecution(subscribe),
        // Close reasons never carry an error's message (addresses, SQL).
        isProd: true,
        onConnect: async (ctx) => {
          try {
            // Past its IP's connection cap: already closed with 4029, no token checked.
            if (!(await wsEdge.admitted(ctx))) return false;
            if (await auth.onConnect(ctx)) return await wsEdge.onConnected(ctx);
            await wsEdge.onRefused(ctx);
            return false;
          } catch (error) {
            // graphql-ws would close with 4500, which its clients never retry.
            if (!isDependencyOutage(error)) throw error;
            logger.warn({ err: error }, 'a dependency is unavailable: websocket refused');
            closeWebSocket(ctx.extra.socket, VigilCloseCode.ServiceUnavailable, SERVICE_UNAVAILABLE_REASON);
            return false;
          }
        },
        onClose: (ctx) => {
          auth.onClose(ctx);
          wsEdge.onClose(ctx);
        },
        onOperation: countSubscriptions(services.metrics),
        onSubscribe: (ctx, id, payload) => wsEdge.onSubscribe(ctx, id, payload),
        onNext: (_ctx, _id, _payload, args, result) => formatResult(result, requestIdOf(args)),
        onError: (_ctx, _id, _payload, errors): GraphQLFormattedError[] => errors.map((e) => formatError(e.toJSON(), e)),
      },
      wsServer,
    );
    const closeWebsockets = async () => {
      await wsDisposable.dispose();
    };

    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const shownHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    startServices(services);

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        logger.info('shutting down');
        draining = true;
        const timeoutMs = config.shutdownTimeoutMs;
        // Connections still busy at the drain's end are cut, leaving time to close the database
        // and Redis within the timeout; past the timeout, stop() returns whatever is left.
        const drainMs = Math.max(timeoutMs - Math.min(2000, timeoutMs / 2), 0);
        const force = setTimeout(() => {
          logger.warn('shutdown drain time reached: closing remaining connections');
          app.server.closeAllConnections();
        }, drainMs);
        force.unref();
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
          timer.unref();
        });
        const work = (async () => {
          await Promise.all([closeWebsockets(), app.close()]);
          clearTimeout(force);
          await cleanup();
        })();
        const outcome = await Promise.race([work.then(() => 'done' as const), deadline]);
        clearTimeout(timer);
        if (outcome === 'timeout') logger.warn({ timeoutMs }, 'shutdown timeout reached: stopping with work left');
        else logger.info('stopped');
      })();
      return stopping;
    };

    logger.info({ url: `http://${shownHost}:${port}/graphql` }, 'Vigil is serving');
    return {
      url: `http://${shownHost}:${port}/graphql`,
      wsUrl: `ws://${shownHost}:${port}/graphql`,
      port,
      app,
      orm,
      services,
      pubsub,
      logger,
      stop,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

export { CloseCode };
