import { GraphQLError } from 'graphql';
import { createVigilPubSub } from '../infra/pubsub';
import { closeRedis, createRedis } from '../infra/redis';
import { createServices, stopServices, type Services } from '../services';
import { CliError, ExitCode, withRuntime, type CliRuntime } from './runtime';

/** Options of {@link withServices}. */
export interface ServicesOptions {
  /**
   * Turns what `fn` throws into what the command reports: a {@link CliError} is one line on stderr
   * and its exit code; anything else is returned unchanged.
   * @default a deliberate GraphQL error is exit 2 when BAD_USER_INPUT (input the operator can correct), 1 otherwise
   */
  asCliError?: (error: unknown) => unknown;
}

function graphQLErrorAsCliError(error: unknown): unknown {
  if (!(error instanceof GraphQLError)) return error;
  return new CliError(error.message, error.extensions.code === 'BAD_USER_INPUT' ? ExitCode.USAGE : ExitCode.FAILURE);
}

/**
 * Runs `fn` with the services of a runtime (not started: no schedules, no monitors). The pub/sub
 * goes through Redis when configured, so what the command changes reaches every running gateway at
 * once (a role change closes websockets, a settings change is applied, a backup's events are
 * published); without Redis the gateways see it through the database. What `fn` throws goes
 * through `options.asCliError`.
 */
export async function withServices<T>(fn: (services: Services, runtime: CliRuntime) => Promise<T>, options: ServicesOptions = {}): Promise<T> {
  return withRuntime(async (runtime: CliRuntime) => {
    const { config, orm, logger } = runtime;
    const redis = config.redisUrl
      ? { publish: createRedis(config.redisUrl, logger, 'cli'), subscribe: createRedis(config.redisUrl, logger, 'cli-subscriber'), prefix: config.redisPrefix }
      : undefined;
    const pubsub = createVigilPubSub(redis);
    const services = createServices({ config, orm, redis: redis?.publish, pubsub, logger });
    try {
      await services.settings.load();
      return await fn(services, runtime);
    } catch (error) {
      throw (options.asCliError ?? graphQLErrorAsCliError)(error);
    } finally {
      await stopServices(services);
      pubsub.close();
      if (redis) await Promise.all([closeRedis(redis.publish), closeRedis(redis.subscribe)]);
    }
  });
}
