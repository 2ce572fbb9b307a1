import { GraphQLError } from 'graphql';
import { createVigilPubSub } from '../infra/pubsub';
import { closeRedis, createRedis } from '../infra/redis';
import { createServices, stopServices, type Services } from '../services';
import { CliError, ExitCode, withRuntime, type CliRuntime } from './runtime';

/**
 * Runs `fn` with the services of a runtime (not started: no schedules, no monitors). The pub/sub
 * goes through Redis when configured, so what the command changes reaches every running gateway at
 * once (a role change closes websockets, a settings change is applied); without Redis the gateways
 * see it through the database. A deliberate GraphQL error (BAD_USER_INPUT, CONFLICT …) becomes
 * one line on stderr: exit 2 for input the operator can correct, 1 otherwise.
 */
export async function withServices<T>(fn: (services: Services, runtime: CliRuntime) => Promise<T>): Promise<T> {
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
      if (error instanceof GraphQLError) {
        throw new CliError(error.message, error.extensions.code === 'BAD_USER_INPUT' ? ExitCode.USAGE : ExitCode.FAILURE);
      }
      throw error;
    } finally {
      await stopServices(services);
      pubsub.close();
      if (redis) await Promise.all([closeRedis(redis.publish), closeRedis(redis.subscribe)]);
    }
  });
}
