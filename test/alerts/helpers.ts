import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/infra/logger';

/** Waits until `condition` holds, checking every 20 ms; fails with `what` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A logger whose JSON lines are kept in `lines` (for asserting on what the server logged). */
export function capturingLogger(level = 'warn'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

/**
 * Settings every alerts test server starts with: no health monitor, so a busy test machine's
 * event-loop or memory alerts do not mix with the alerts a test counts.
 */
export const QUIET_ENV: Record<string, string> = { VIGIL_HEALTH_INTERVAL_MS: '0' };
