import type { Config } from '../../config';
import type { AlertLevel } from '../../entities/alert.entity';
import type { AlertChannelName } from '../../entities/alert-delivery.entity';
import { ROLE_ORDER } from '../../permissions/roles';
import type { AlertThresholds } from '../alerts/create-alert-service';
import type { IdentitySettings } from '../auth/auth.service';
import type { BackupPolicy } from '../backups/backup-context';
import type { SettingsValues } from './settings.catalog';

/** Where the views read the settings in force (the settings service). */
export interface LiveSettings {
  readonly values: SettingsValues;
}

/**
 * A getter of `map(values)` for the values in force now, worked out again only when they changed
 * (the settings service hands out a new values object per applied change).
 */
export function liveView<T>(live: LiveSettings, map: (values: SettingsValues) => T): () => T {
  let seen: SettingsValues | undefined;
  let view: T;
  return () => {
    const values = live.values;
    if (values !== seen) {
      view = map(values);
      seen = values;
    }
    return view;
  };
}

const orOff = (schedule: string) => (schedule === 'off' ? null : schedule);

/** The identity settings the auth service reads: the configuration's, with the runtime settings laid over. */
export function identityView(config: Config, live: LiveSettings): () => IdentitySettings {
  return liveView(live, ({ identity: i }) => ({
    ...config.auth,
    lockoutThreshold: i.lockoutThreshold,
    lockoutWindowSeconds: i.lockoutWindowSeconds,
    lockoutDurationSeconds: i.lockoutDurationSeconds,
    sessionIdleTimeoutSeconds: i.sessionIdleTimeoutSeconds,
    sessionMaxLifetimeSeconds: i.sessionMaxLifetimeSeconds,
    maxSessionsPerUser: i.maxSessionsPerUser,
    mfaRequiredRoles: ROLE_ORDER.filter((role) => i.mfaRequired[role]),
  }));
}

/** The backup schedules, retention and freshness limit in force. */
export function backupPolicyView(live: LiveSettings): () => BackupPolicy {
  return liveView(live, ({ retention: r }) => ({
    schedule: orOff(r.backupSchedule),
    drillSchedule: orOff(r.drillSchedule),
    keepLast: r.backupKeepLast,
    keepDays: r.backupKeepDays,
    maxAgeHours: r.backupMaxAgeHours,
  }));
}

/** The alert thresholds and channel levels in force. */
export function alertThresholdsView(live: LiveSettings): () => AlertThresholds {
  return liveView(live, ({ alerts: a }) => ({
    cooldownSeconds: a.cooldownSeconds,
    escalationSeconds: a.escalationSeconds,
    denialsThreshold: a.denialsThreshold,
    denialsWindowSeconds: a.denialsWindowSeconds,
    minLevels: { log: a.logMinLevel, webhook: a.webhookMinLevel, slack: a.slackMinLevel, email: a.emailMinLevel } as Record<AlertChannelName, AlertLevel>,
  }));
}
