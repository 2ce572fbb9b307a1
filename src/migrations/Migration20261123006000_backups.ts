import { Migration } from '@mikro-orm/migrations';

export class Migration20261123006000_backups extends Migration {
  override async up(): Promise<void> {
    // created_by has no foreign key on purpose: after a restore the metadata of every backup on disk
    // is written back, and its author may not exist in the restored user table.
    this.addSql(`
      create table backup (
        id uuid primary key,
        label text null,
        status text not null check (status in ('RUNNING','SUCCEEDED','FAILED')),
        trigger text not null check (trigger in ('MANUAL','SCHEDULED','PRE_RESTORE')),
        started_at timestamptz not null default now(),
        finished_at timestamptz null,
        size_bytes bigint null,
        sha256 text null,
        error text null,
        manifest jsonb null,
        scheduled_for timestamptz null,
        created_by uuid null
      );
    `);
    this.addSql('create index backup_started_at_idx on backup (started_at desc, id desc);');
    this.addSql('create index backup_succeeded_idx on backup (finished_at desc) where status = \'SUCCEEDED\';');
    this.addSql('create unique index backup_scheduled_for_uidx on backup (scheduled_for) where scheduled_for is not null;');

    this.addSql(`
      create table backup_verification (
        id uuid primary key,
        backup_id uuid not null references backup(id) on delete cascade,
        at timestamptz not null default now(),
        kind text not null check (kind in ('VERIFY','DRILL')),
        ok boolean not null,
        checks jsonb not null,
        scheduled_for timestamptz null,
        created_by uuid null
      );
    `);
    this.addSql('create index backup_verification_backup_idx on backup_verification (backup_id, at desc);');
    this.addSql(
      'create unique index backup_verification_scheduled_for_uidx on backup_verification (scheduled_for) where scheduled_for is not null;',
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists backup_verification;');
    this.addSql('drop table if exists backup;');
  }
}
