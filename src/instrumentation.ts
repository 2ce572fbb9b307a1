import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, tracingSettings } from './config';
import { loadEnvFile } from './infra/env-file';
import { startTracing, type Tracing } from './infra/tracing-sdk';

/**
 * The process's first step, imported by main.ts before anything else: reads `.env`, then starts
 * OpenTelemetry tracing when the OTEL_* variables ask for it — before `http`, `pg` and `ioredis`
 * are loaded, so their instrumentations take. A wrong OTEL_* setting ends the process with one line
 * and exit code 2, like any other setting.
 */
function bootstrap(): Tracing | undefined {
  loadEnvFile();
  try {
    return startTracing(tracingSettings(), packageVersion());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}

function packageVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** The running tracer provider, undefined when tracing is off; main.ts flushes it on shutdown. */
export const tracing = bootstrap();
