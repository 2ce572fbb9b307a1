// First: .env and OpenTelemetry, before http, pg and ioredis load.
import { tracing } from './instrumentation';
import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './infra/logger';
import { installProcessGuard } from './infra/process-guard';
import { createServer } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  installProcessGuard(logger);
  const server = await createServer(config, { logger });
  let firstSignalAt: number | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    // `npm start` forwards the terminal's signal that the process group already received, so a
    // second signal only forces an exit when it comes well after the first.
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt < 2000) return;
      server.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    firstSignalAt = Date.now();
    server.logger.info({ signal }, 'received signal');
    server
      .stop()
      // Buffered spans leave before the process does.
      .then(() => tracing?.shutdown().catch((error: unknown) => server.logger.warn({ err: error }, 'could not export the last spans')))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          server.logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // A closed terminal: without a handler node would die at once, skipping the graceful stop.
  process.on('SIGHUP', shutdown);
}

main().catch((error: unknown) => {
  const listen = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (listen?.code === 'EADDRINUSE') {
    console.error(`Vigil failed to start: port ${listen.port ?? ''} on ${listen.address ?? ''} is in use (another Vigil or another program): set PORT or stop it`);
  } else console.error(`Vigil failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
