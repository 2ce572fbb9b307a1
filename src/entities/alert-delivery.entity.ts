import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** Where an alert was sent. */
export type AlertChannelName = 'webhook' | 'slack' | 'email' | 'log';

/** Why it was sent: first raised, or escalated. */
export type AlertDeliveryEvent = 'RAISED' | 'ESCALATED';

export type AlertDeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED' | 'SILENCED';

/** One delivery of one alert through one channel, with its attempts and the last error. */
@Entity({ tableName: 'alert_delivery' })
export class AlertDelivery {
  [OptionalProps]?: 'status' | 'attempts' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  alertId!: string;

  @Property({ type: 'text' })
  channel!: AlertChannelName;

  @Property({ type: 'text' })
  event!: AlertDeliveryEvent;

  @Property({ type: 'text' })
  status: AlertDeliveryStatus = 'PENDING';

  @Property({ type: 'integer' })
  attempts = 0;

  @Property({ type: 'text', nullable: true })
  lastError?: string | null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  deliveredAt?: Date | null;
}
