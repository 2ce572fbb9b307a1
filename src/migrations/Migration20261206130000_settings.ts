import { Migration } from '@mikro-orm/migrations';

export class Migration20261206130000_settings extends Migration {
  override async up(): Promise<void> {
    // One row: the stored overrides of the runtime settings and the maintenance switch, versioned as a whole.
    this.addSql(`
      create table system_settings_state (
        id smallint primary key default 1 check (id = 1),
        version integer not null default 0,
        stored jsonb not null default '{}'::jsonb,
        maintenance_enabled boolean not null default false,
        maintenance_message text null,
        maintenance_since timestamptz null,
        maintenance_reason text null,
        updated_at timestamptz not null default now(),
        updated_by uuid null
      );
    `);
    this.addSql('insert into system_settings_state (id) values (1);');
    // A holder (a restore) keeps maintenance on while its lease is renewed; a dead holder's lease runs out.
    this.addSql(`
      create table maintenance_hold (
        id uuid primary key,
        reason text not null,
        message text null,
        since timestamptz not null default now(),
        expires_at timestamptz not null,
        instance_id text not null
      );
    `);
    // actor_id has no foreign key: history outlives accounts, as the audit trail does.
    this.addSql(`
      create table system_settings_change (
        id uuid primary key,
        version integer not null,
        at timestamptz not null default now(),
        actor_id uuid null,
        actor_email text null,
        reason text null,
        changes jsonb not null
      );
    `);
    this.addSql('create index system_settings_change_at_idx on system_settings_change (at desc, id desc);');
    // Each running instance says which settings it applies and whether its writes have drained.
    this.addSql(`
      create table settings_instance (
        instance_id text primary key,
        applied_version integer not null,
        applied_signature text not null,
        writes_stopped_signature text null,
        writes_in_flight integer not null default 0,
        seen_at timestamptz not null default now()
      );
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists settings_instance;');
    this.addSql('drop table if exists system_settings_change;');
    this.addSql('drop table if exists maintenance_hold;');
    this.addSql('drop table if exists system_settings_state;');
  }
}
