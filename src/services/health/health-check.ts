import { HealthStatus } from '../../schema/enums';

/** What one check found. */
export interface CheckOutcome {
  status: HealthStatus;
  detail?: string;
  /** The measured value behind the status (ms, bytes, percent …), for `/health`. */
  observedValue?: number;
  observedUnit?: string;
}

/** One component of the health report. */
export interface HealthCheck {
  name: string;
  /** A critical component that is DOWN makes the whole platform DOWN; others make it DEGRADED. */
  critical: boolean;
  run(signal: AbortSignal): Promise<CheckOutcome>;
  /** Releases what the check holds (timers, monitors) when the service stops. */
  stop?(): void;
}

/**
 * Published on `deps.pubsub` topic {@link HEALTH_COMPONENT_CHANGED} by every instance's monitor
 * when one component's status changes (and once at start for a component that is not UP, with
 * `previous: null`).
 */
export interface HealthComponentChangedEvent {
  component: string;
  status: HealthStatus;
  previous: HealthStatus | null;
  detail: string | null;
  critical: boolean;
  /** The instance whose monitor saw the change (per-instance components differ between instances). */
  instanceId: string;
  /** ISO-8601 */
  at: string;
}

/** The pub/sub topic of {@link HealthComponentChangedEvent}. */
export const HEALTH_COMPONENT_CHANGED = 'HEALTH_COMPONENT_CHANGED';

export interface ComponentReport extends CheckOutcome {
  name: string;
  latencyMs: number;
  critical: boolean;
}

export interface HealthReport {
  status: HealthStatus;
  checkedAt: Date;
  components: ComponentReport[];
}

/** Overall status: DOWN if a critical component is down, DEGRADED if anything is not UP. */
export function overallStatus(components: readonly ComponentReport[]): HealthStatus {
  if (components.some((c) => c.critical && c.status === HealthStatus.DOWN)) return HealthStatus.DOWN;
  if (components.some((c) => c.status !== HealthStatus.UP)) return HealthStatus.DEGRADED;
  return HealthStatus.UP;
}
