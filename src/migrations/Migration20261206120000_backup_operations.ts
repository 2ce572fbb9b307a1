import { Migration } from '@mikro-orm/migrations';

/**
 * The backups area's operation records and the alert sequence ledger. Both tables are kept across
 * restores (a restore neither dumps nor replaces their rows), so an operation a restore interrupts
 * is still known afterwards, and a sequence number handed out before a restore is never handed
 * out again.
 */
export class Migration20261206120000_backup_operations extends Migration {
  override async up(): Promise<void> {
    // owner_pid/owner_backend_start name the PostgreSQL session that holds the operation: while
    // that session exists the operation is alive; when its instance dies, PostgreSQL ends it.
    this.addSql(`
      create table backup_operation (
        id uuid primary key,
        kind text not null check (kind in ('BACKUP','VERIFY','RESTORE')),
        backup_id uuid null,
        status text not null check (status in ('RUNNING','SUCCEEDED','FAILED')),
        instance_id text not null,
        owner_pid int not null,
        owner_backend_start timestamptz not null,
        scratch_database text null,
        meta jsonb not null,
        detail jsonb not null default '{}'::jsonb,
        started_at timestamptz not null default now(),
        finished_at timestamptz null,
        error text null
      );
    `);
    this.addSql(`create index backup_operation_running_idx on backup_operation (started_at) where status = 'RUNNING';`);
    this.addSql('create index backup_operation_started_at_idx on backup_operation (started_at desc);');
    this.addSql(`
      create table alert_sequence_ledger (
        id uuid primary key,
        seq bigint not null
      );
    `);
    this.addSql('create index alert_sequence_ledger_seq_idx on alert_sequence_ledger (seq desc);');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists alert_sequence_ledger;');
    this.addSql('drop table if exists backup_operation;');
  }
}
