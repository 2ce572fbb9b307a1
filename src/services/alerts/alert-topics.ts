/**
 * Pub/sub topics alerts publish and listen to. Payloads are plain JSON so they can cross Redis.
 */
export const AlertTopic = {
  /** A new alert was committed: `{ id, seq }`. */
  RAISED: 'ALERT_RAISED',
  /** An alert changed (repeat, acknowledged, resolved, escalated, linked): `{ id, seq }`. */
  UPDATED: 'ALERT_UPDATED',
} as const;

/** What `ALERT_RAISED` and `ALERT_UPDATED` carry. */
export interface AlertEventPayload {
  id: string;
  seq: number;
}

/** Topics other areas publish that raise or resolve alerts. */
export const SourceTopic = {
  /** `{ component, status, previous, detail }` from the health monitor. */
  HEALTH_COMPONENT_CHANGED: 'HEALTH_COMPONENT_CHANGED',
  /** `{ firstBrokenSeq }` when audit-chain verification finds a broken link. */
  AUDIT_CHAIN_BROKEN: 'AUDIT_CHAIN_BROKEN',
  BACKUP_FAILED: 'BACKUP_FAILED',
  BACKUP_STALE: 'BACKUP_STALE',
  BACKUP_RESTORED: 'BACKUP_RESTORED',
  /** `{ action, actorId, ip, outcome? }` for every security event the audit service records. */
  SECURITY_EVENT: 'SECURITY_EVENT',
} as const;
