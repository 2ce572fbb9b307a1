import { Migration } from '@mikro-orm/migrations';

export class Migration20261123000000_foundation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table if not exists system_setting (
        key text primary key,
        value jsonb not null,
        updated_at timestamptz not null default now(),
        updated_by uuid null
      );
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists system_setting;');
  }
}
