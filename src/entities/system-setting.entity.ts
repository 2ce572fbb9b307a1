import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** A runtime setting changed through the API, kept across restarts and shared by every instance. */
@Entity({ tableName: 'system_setting' })
export class SystemSetting {
  [OptionalProps]?: 'updatedAt';

  @PrimaryKey({ type: 'text' })
  key!: string;

  @Property({ type: 'json' })
  value!: unknown;

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  @Property({ type: 'uuid', nullable: true })
  updatedBy?: string | null;
}
