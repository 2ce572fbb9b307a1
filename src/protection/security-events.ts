import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { RequestMeta } from '../context';
import type { Logger } from '../infra/logger';
import type { AuditService } from '../services/audit/audit.service';

/** A rejected request as the audit trail records it (outcome DENIED). */
export interface SecurityEvent {
  /** `RATE_LIMITED`, `COST_BUDGET_EXCEEDED`, `QUERY_TOO_COMPLEX`, `UNTRUSTED_DOCUMENT`, `INTROSPECTION_DENIED`. */
  action: string;
  reason: string;
  changes?: Record<string, unknown>;
}

/** Records a security event; never throws, never waits for the database. */
export type SecurityEventRecorder = (meta: RequestMeta, event: SecurityEvent) => void;

/**
 * Sends rejections to `services.audit.recordSecurityEvent`, tied to the user or, for anonymous
 * callers, the IP (both are in the meta). A flood must not turn into a flood of database writes:
 * each user or IP gets at most `perMinute` recorded events per minute; the rest are only logged.
 */
export function createSecurityEventRecorder(
  audit: Pick<AuditService, 'recordSecurityEvent'>,
  logger: Logger,
  perMinute = 30,
): SecurityEventRecorder {
  const throttle = new RateLimiterMemory({ keyPrefix: 'security-events', points: perMinute, duration: 60 });
  return (meta, event) => {
    const who = meta.actor ? `user:${meta.actor.id}` : `ip:${meta.ip}`;
    logger.warn({ requestId: meta.requestId, who, action: event.action, reason: event.reason }, 'request rejected');
    throttle
      .consume(who)
      .then(() =>
        audit.recordSecurityEvent(meta, {
          action: event.action,
          outcome: 'DENIED',
          reason: event.reason,
          changes: event.changes ?? null,
        }),
      )
      .catch(() => undefined);
  };
}
