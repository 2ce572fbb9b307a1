import type { Config } from '../../config';
import type { Logger } from '../../infra/logger';

/**
 * Where the generated first-administrator password is shown: once on stdout (the operator reads it
 * from the console), or into the log under tests so test output stays clean.
 */
export function firstAdminAnnouncer(config: Pick<Config, 'env'>, logger: Logger): (message: string) => void {
  if (config.env === 'test') return (message) => logger.info(message);
  return (message) => {
    process.stdout.write(message);
  };
}
