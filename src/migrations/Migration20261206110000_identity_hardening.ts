import { Migration } from '@mikro-orm/migrations';

/**
 * Identity hardening: attempt accounting per scope (password by email, second factor by user id)
 * replaces `login_throttle`; hashed single-use MFA recovery codes; and, on a used refresh token,
 * the client that used it and its sealed successor, so a reuse by the same client within the grace
 * window gets the same rotated pair.
 */
export class Migration20261206110000_identity_hardening extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table attempt_throttle (
        scope text not null,
        subject text not null,
        attempts integer not null default 0,
        window_started_at timestamptz not null default now(),
        locked_until timestamptz null,
        primary key (scope, subject)
      );
    `);
    this.addSql(`
      insert into attempt_throttle (scope, subject, attempts, window_started_at, locked_until)
      select 'password', email, failures, window_started_at, locked_until from login_throttle;
    `);
    this.addSql('drop table login_throttle;');

    this.addSql(`
      create table mfa_recovery_code (
        id uuid primary key,
        user_id uuid not null references "user"(id) on delete cascade,
        code_hash text not null,
        created_at timestamptz not null default now(),
        used_at timestamptz null
      );
    `);
    this.addSql('create unique index mfa_recovery_code_user_hash_uidx on mfa_recovery_code (user_id, code_hash);');

    this.addSql('alter table refresh_token add column client_hash text null, add column successor_sealed text null;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table refresh_token drop column if exists client_hash, drop column if exists successor_sealed;');
    this.addSql('drop table if exists mfa_recovery_code;');
    this.addSql(`
      create table login_throttle (
        email text primary key,
        failures integer not null default 0,
        window_started_at timestamptz not null default now(),
        locked_until timestamptz null
      );
    `);
    this.addSql(`
      insert into login_throttle (email, failures, window_started_at, locked_until)
      select subject, attempts, window_started_at, locked_until from attempt_throttle where scope = 'password';
    `);
    this.addSql('drop table if exists attempt_throttle;');
  }
}
