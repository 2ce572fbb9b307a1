import { HealthStatus } from '../../schema/enums';
import type { HealthCheck } from '../health/health-check';
import type { SettingsService } from './settings.service';

/**
 * The `maintenance` health component: DEGRADED with the reason while maintenance refuses writes
 * (reads still work), UP otherwise. Not critical: readiness stays up, the platform reads DEGRADED.
 */
export function maintenanceCheck(settings: Pick<SettingsService, 'current'>): HealthCheck {
  return {
    name: 'maintenance',
    critical: false,
    run() {
      const m = settings.current().maintenance;
      if (!m.enabled) return Promise.resolve({ status: HealthStatus.UP });
      const since = m.since ? ` since ${m.since.toISOString()}` : '';
      const detail = `maintenance${since}: writes are refused (${m.reason ?? 'no reason given'})${m.message ? ` — ${m.message}` : ''}`;
      return Promise.resolve({ status: HealthStatus.DEGRADED, detail });
    },
  };
}
