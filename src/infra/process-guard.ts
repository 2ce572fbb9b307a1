import type { Logger } from './logger';

/**
 * Keeps one failure from ending the process: an exception nobody caught or a rejection nobody
 * handled is logged (with its stack) and counted, and the gateway keeps serving everyone else. The
 * causes found so far — a client's subscription overflowing inside a Redis listener, a publish
 * rejected while Redis was away — are contained where they happen; this is the net under what was
 * not found yet, so that no client's behaviour can exit the process. Returns the uninstaller.
 */
export function installProcessGuard(logger: Logger, onError: (kind: 'uncaughtException' | 'unhandledRejection') => void = () => undefined): () => void {
  const uncaught = (error: Error, origin: string) => {
    logger.error({ err: error, origin }, 'uncaught exception contained; the gateway keeps serving');
    onError('uncaughtException');
  };
  const unhandled = (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection contained; the gateway keeps serving');
    onError('unhandledRejection');
  };
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', unhandled);
  return () => {
    process.removeListener('uncaughtException', uncaught);
    process.removeListener('unhandledRejection', unhandled);
  };
}
