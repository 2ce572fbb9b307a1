// The gateway as a user runs it, in its own process, for the benchmarks.
import 'reflect-metadata';
import { loadConfig } from '../../src/config';
import { createServer } from '../../src/server';

/** How long a graceful stop may take before the process exits anyway (a CPU profile is written on exit). */
const STOP_GRACE_MS = 5000;

async function main(): Promise<void> {
  const server = await createServer(loadConfig());
  process.stdout.write('READY\n');
  process.once('SIGTERM', () => {
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
    void server.stop().finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
