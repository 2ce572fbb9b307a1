import { Migration } from '@mikro-orm/migrations';

/**
 * Alerts, silences and delivery records. `alert.seq` is assigned under a cluster-wide advisory
 * lock as max + 1, so it is gap-free and follows commit order: subscribers resume and fill gaps by it.
 * Users and investigations are referenced by plain uuids so alerts survive their deletion.
 */
export class Migration20261123004000_alerts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table alert (
        id uuid primary key,
        seq bigint not null,
        level text not null check (level in ('INFO', 'WARNING', 'ERROR', 'CRITICAL')),
        title text not null,
        message text null,
        source text not null,
        fingerprint text not null,
        labels jsonb not null default '{}'::jsonb,
        status text not null default 'ACTIVE' check (status in ('ACTIVE', 'ACKNOWLEDGED', 'RESOLVED')),
        count integer not null default 1,
        first_seen_at timestamptz not null default now(),
        last_seen_at timestamptz not null default now(),
        acknowledged_by_id uuid null,
        acknowledged_at timestamptz null,
        resolved_by_id uuid null,
        resolved_at timestamptz null,
        resolution text null,
        escalation_level integer not null default 0,
        escalated_at timestamptz null,
        investigation_id uuid null,
        created_by_id uuid null,
        constraint alert_seq_unique unique (seq)
      );
    `);
    this.addSql('create index alert_fingerprint_idx on alert (fingerprint, last_seen_at desc);');
    this.addSql('create index alert_first_seen_idx on alert (first_seen_at desc, id desc);');
    this.addSql('create index alert_level_status_idx on alert (level, status);');
    this.addSql('create index alert_source_idx on alert (source);');
    this.addSql(`create index alert_escalation_idx on alert (first_seen_at) where status = 'ACTIVE' and level in ('ERROR', 'CRITICAL');`);

    this.addSql(`
      create table alert_silence (
        id uuid primary key,
        source text null,
        level text null check (level is null or level in ('INFO', 'WARNING', 'ERROR', 'CRITICAL')),
        fingerprint text null,
        labels jsonb null,
        until timestamptz null,
        ended_at timestamptz null,
        reason text null,
        created_by_id uuid null,
        created_at timestamptz not null default now()
      );
    `);
    this.addSql('create index alert_silence_active_idx on alert_silence (until) where ended_at is null;');

    this.addSql(`
      create table alert_delivery (
        id uuid primary key,
        alert_id uuid not null references alert (id) on delete cascade,
        channel text not null,
        event text not null,
        status text not null default 'PENDING' check (status in ('PENDING', 'DELIVERED', 'FAILED', 'SILENCED')),
        attempts integer not null default 0,
        last_error text null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        delivered_at timestamptz null
      );
    `);
    this.addSql('create index alert_delivery_alert_idx on alert_delivery (alert_id, created_at);');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists alert_delivery;');
    this.addSql('drop table if exists alert_silence;');
    this.addSql('drop table if exists alert;');
  }
}
