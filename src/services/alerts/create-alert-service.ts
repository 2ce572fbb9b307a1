import type { VigilMetrics } from '../../infra/metrics';
import type { Config } from '../../config';
import type { RequestMeta } from '../../context';
import type { Alert } from '../../entities/alert.entity';
import type { EntityManager, MikroORM } from '../../infra/db';
import type { Logger } from '../../infra/logger';
import type { VigilPubSub } from '../../infra/pubsub';
import type { Redis } from '../../infra/redis';
import type { HealthService } from '../health/health.service';
import type { InvestigationService } from '../investigations/investigation.service';
import { RiskLevel } from '../../schema/investigation.enums';
import { emailChannel, logChannel, slackChannel, webhookChannel, type AlertChannel } from './alert-channels';
import { AlertDeliverer } from './alert-deliverer';
import { AlertEscalator } from './alert-escalator';
import { AlertFeed } from './alert-feed';
import { isAlertSilenced } from './alert-silences';
import { AlertSources } from './alert-sources';
import { AlertService, type AlertAuditRecorder } from './alert.service';
import { AlertLevel } from '../../entities/alert.entity';
import type { AlertChannelName } from '../../entities/alert-delivery.entity';

export interface AlertServiceFactoryDeps {
  config: Config;
  orm: MikroORM;
  pubsub: VigilPubSub;
  redis?: Redis;
  logger: Logger;
  audit: AlertAuditRecorder;
  investigations: Pick<InvestigationService, 'create'>;
  health?: HealthService;
  /**
   * The thresholds and channel levels in force now, read at each use (live settings swap it).
   * @default the configuration's `alerts`
   */
  thresholds?: () => AlertThresholds;
  metrics?: Pick<VigilMetrics, 'alertsRaised'>;
}

/** The alert figures a SUPER_ADMIN may change while the gateway runs. */
export interface AlertThresholds {
  cooldownSeconds: number;
  escalationSeconds: number;
  denialsThreshold: number;
  denialsWindowSeconds: number;
  minLevels: Record<AlertChannelName, AlertLevel>;
}

const RISK_OF_LEVEL: Record<AlertLevel, RiskLevel> = {
  [AlertLevel.INFO]: RiskLevel.LOW,
  [AlertLevel.WARNING]: RiskLevel.MEDIUM,
  [AlertLevel.ERROR]: RiskLevel.HIGH,
  [AlertLevel.CRITICAL]: RiskLevel.CRITICAL,
};

/** The channels the configuration turns on; the log is always one. */
export function configuredChannels(config: Config, logger: Logger): AlertChannel[] {
  const a = config.alerts;
  const channels: AlertChannel[] = [logChannel(logger, a.logMinLevel as AlertLevel)];
  if (a.webhook) channels.push(webhookChannel({ url: a.webhook.url, secret: a.webhook.secret, minLevel: a.webhook.minLevel as AlertLevel }));
  if (a.slack) channels.push(slackChannel({ url: a.slack.url, minLevel: a.slack.minLevel as AlertLevel }));
  if (a.email) channels.push(emailChannel({ ...a.email, minLevel: a.email.minLevel as AlertLevel }, a.deliveryTimeoutMs));
  return channels;
}

/**
 * Builds the alert service with its live feed, delivery channels, event sources and escalation
 * job; `start()` and `stop()` run the background parts.
 */
export function createAlertService(deps: AlertServiceFactoryDeps): AlertService {
  const { config, orm, pubsub, logger } = deps;
  const a = config.alerts;
  const fixed: AlertThresholds = { ...a, minLevels: a.minLevels as Record<AlertChannelName, AlertLevel> };
  const thresholds = deps.thresholds ?? (() => fixed);
  const feed = new AlertFeed({ orm, pubsub, logger });
  const deliverer = new AlertDeliverer({
    orm,
    channels: configuredChannels(config, logger),
    logger,
    maxAttempts: a.deliveryMaxAttempts,
    backoffMs: a.deliveryBackoffMs,
    timeoutMs: a.deliveryTimeoutMs,
    isSilenced: (alert) => isAlertSilenced(orm, alert, deps.config.alerts.silenceMaxSeconds),
    minLevelOf: (channel) => thresholds().minLevels[channel],
  });
  const alerts = new AlertService({
    orm,
    pubsub,
    logger,
    audit: deps.audit,
    feed,
    deliverer,
    cooldownSeconds: () => thresholds().cooldownSeconds,
    escalationSeconds: () => thresholds().escalationSeconds,
    silenceMaxSeconds: () => deps.config.alerts.silenceMaxSeconds,
    metrics: deps.metrics,
    openInvestigation: (em: EntityManager, meta: RequestMeta, alert: Alert) =>
      deps.investigations.create(em, meta, {
        title: `Alert: ${alert.title}`.slice(0, 200),
        description: [alert.message, `Opened from alert ${alert.id} (${alert.level}, source ${alert.source}, seen ${alert.count}×).`]
          .filter(Boolean)
          .join('\n\n'),
        trigger: `alert:${alert.id}`,
        riskLevel: RISK_OF_LEVEL[alert.level],
      }),
  });
  alerts.runInBackground(
    new AlertSources({
      alerts,
      pubsub,
      logger,
      redis: deps.redis,
      redisPrefix: config.redisPrefix,
      denialsThreshold: () => thresholds().denialsThreshold,
      denialsWindowSeconds: () => thresholds().denialsWindowSeconds,
      health: deps.health,
    }),
  );
  alerts.runInBackground(new AlertEscalator(alerts, a.escalationCheckMs, logger));
  return alerts;
}
