import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from '../config';
import { migrate, openOrm, type MikroORM } from '../infra/db';
import { findRunningEmbedded } from '../infra/embedded-endpoint';
import { startEmbeddedPostgres } from '../infra/embedded-postgres';
import { createLogger, type Logger } from '../infra/logger';

/**
 * What `vigil` exits with. `health` has its own: 0 UP, 1 DEGRADED, 2 DOWN (monitoring convention).
 */
export const ExitCode = {
  /** The command did what it was asked. */
  OK: 0,
  /** The command failed (database unreachable, a backup that does not verify …): one line on stderr. */
  FAILURE: 1,
  /** The command line or the configuration is wrong: nothing was done. */
  USAGE: 2,
} as const;

/** A CLI command failed in a way the operator can act on: printed as one line, exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** What a CLI command works with: the configuration, a logger on stderr, and the database. */
export interface CliRuntime {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  close(): Promise<void>;
}

/** How a CLI command opens the database. */
export interface RuntimeOptions {
  /** Apply pending migrations first (default true). */
  migrate?: boolean;
  /** Log level on stderr instead of the configured one (default: `warn` when the setting is `info`). */
  logLevel?: string;
}

/**
 * Opens the database the way the server does and applies pending migrations unless told not to.
 * With `DATABASE_URL` unset it is the embedded database under `VIGIL_DATA_DIR`: the one a running
 * server (or another CLI) already serves when its endpoint file says so, otherwise started here
 * and stopped on close.
 */
export async function openRuntime(options: RuntimeOptions = {}): Promise<CliRuntime> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
  const logger = createLogger(options.logLevel ?? (config.logLevel === 'info' ? 'warn' : config.logLevel), process.stderr as never);
  let url = config.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    const running = await findRunningEmbedded(config.dataDir);
    if (running) {
      url = running.url;
      logger.debug({ pid: running.pid }, 'using the embedded database of the running Vigil process');
    } else {
      const embedded = await startEmbeddedPostgres(config.dataDir, logger).catch((error: unknown) => {
        throw new CliError(`cannot start the embedded database: ${error instanceof Error ? error.message : String(error)}`);
      });
      url = embedded.url;
      stopEmbedded = embedded.stop;
    }
  }
  const orm = await openOrm(url, 4, logger).catch(async (error: unknown) => {
    await stopEmbedded?.();
    throw new CliError(`cannot open the database: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (options.migrate !== false) {
    await migrate(orm).catch(async (error: unknown) => {
      await orm.close(true).catch(() => undefined);
      await stopEmbedded?.();
      throw new CliError(`cannot migrate the database: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
  return {
    config,
    logger,
    orm,
    async close() {
      await orm.close(true);
      await stopEmbedded?.();
    },
  };
}

/** Runs `fn` with a runtime and always closes it. */
export async function withRuntime<T>(fn: (rt: CliRuntime) => Promise<T>, options?: RuntimeOptions): Promise<T> {
  const runtime = await openRuntime(options);
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}
