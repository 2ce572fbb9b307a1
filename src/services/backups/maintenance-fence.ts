import type { RequestMeta } from '../../context';
import { ServiceUnavailableError } from '../../errors';
import type { SettingsService } from '../settings/settings.service';
import { MAINTENANCE_RETRY_AFTER_SECONDS } from '../settings/write-gate';
import type { WriteFence } from './backup-restore';

/** What clients read while a restore holds maintenance (`extensions.reason` is MAINTENANCE). */
const RESTORE_MESSAGE = 'A backup is being restored: changes are refused until it ends; reads still work';

/**
 * The write fence of restores: the cluster-wide maintenance state of the settings area. `hold`
 * takes a maintenance lease (every instance refuses writes within its poll period, at once when
 * Redis carries the notice), then waits until every live instance confirms it applies it with no
 * write in flight. When they do not within `drainTimeoutMs`, the lease is given back and the
 * restore does not start (SERVICE_UNAVAILABLE, retryable): a restore must never run while an
 * instance could still acknowledge a write it would then erase. A lease whose holder dies runs
 * out by itself.
 */
export function maintenanceFence(
  settings: Pick<SettingsService, 'enterMaintenance' | 'awaitWritesStopped'>,
  options: {
    /** How long instances get to stop writing and finish writes in flight. @default 15_000 */
    drainTimeoutMs?: number;
  } = {},
): WriteFence {
  return {
    async hold(meta: RequestMeta, reason: string) {
      const lease = await settings.enterMaintenance(meta, { reason, message: RESTORE_MESSAGE });
      const release = () => lease.release(meta);
      let stopped;
      try {
        stopped = await settings.awaitWritesStopped({ timeoutMs: options.drainTimeoutMs ?? 15_000 });
      } catch (error) {
        await release();
        throw error;
      }
      if (!stopped.stopped) {
        await release();
        throw new ServiceUnavailableError(
          `Writes did not stop on every instance in time (still waiting for ${stopped.waitingFor.join(', ') || 'unknown'}); nothing was restored`,
          { retryAfter: MAINTENANCE_RETRY_AFTER_SECONDS, reason: 'MAINTENANCE' },
        );
      }
      return release;
    },
  };
}
