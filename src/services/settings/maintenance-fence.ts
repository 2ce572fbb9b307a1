import type { RequestMeta } from '../../context';
import { ServiceUnavailableError } from '../../errors';
import type { WriteFence } from '../backups/backup.service';
import type { SettingsService } from './settings.service';

/** How long a restore waits for every instance to confirm that its writes stopped. */
const WRITES_STOPPED_TIMEOUT_MS = 10_000;

/**
 * The restore's write fence: a maintenance lease (every instance refuses writes within one poll
 * period, most within milliseconds), then a wait until every live instance confirms that no write
 * it admitted is still running. When one does not confirm in time the lease is released and the
 * restore is refused with SERVICE_UNAVAILABLE (nothing was changed). The release ends the lease.
 */
export function maintenanceFence(settings: Pick<SettingsService, 'enterMaintenance' | 'awaitWritesStopped'>): WriteFence {
  return {
    async hold(meta: RequestMeta, reason: string) {
      const lease = await settings.enterMaintenance(meta, { reason, message: 'A backup is being restored: changes are refused until it ends; reads still work' });
      const stopped = await settings.awaitWritesStopped({ timeoutMs: WRITES_STOPPED_TIMEOUT_MS });
      if (!stopped.stopped) {
        await lease.release(meta);
        throw new ServiceUnavailableError(`Writes did not stop on every instance in time (${stopped.waitingFor.join(', ')}); nothing was restored`, {
          retryAfter: 30,
          reason: 'MAINTENANCE',
        });
      }
      return () => lease.release(meta);
    },
  };
}
