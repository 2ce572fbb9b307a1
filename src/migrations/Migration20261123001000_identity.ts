import { Migration } from '@mikro-orm/migrations';

export class Migration20261123001000_identity extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "user" (
        id uuid primary key,
        email text not null,
        name text not null,
        role text not null check (role in ('VIEWER','ANALYST','SENIOR_ANALYST','INVESTIGATOR','ADMIN','SUPER_ADMIN')),
        password_hash text not null,
        disabled boolean not null default false,
        mfa_secret_encrypted text null,
        mfa_pending_secret_encrypted text null,
        mfa_enabled boolean not null default false,
        mfa_last_step integer null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
    `);
    this.addSql('create unique index user_email_lower_uidx on "user" (lower(email));');
    this.addSql('create index user_created_at_idx on "user" (created_at desc, id desc);');
    this.addSql('create index user_role_idx on "user" (role) where not disabled;');

    this.addSql(`
      create table session (
        id uuid primary key,
        user_id uuid not null references "user"(id) on delete cascade,
        ip text null,
        user_agent text null,
        created_at timestamptz not null default now(),
        last_seen_at timestamptz not null default now(),
        expires_at timestamptz not null,
        revoked_at timestamptz null,
        revoked_reason text null
      );
    `);
    this.addSql('create index session_user_active_idx on session (user_id, created_at) where revoked_at is null;');

    this.addSql(`
      create table refresh_token (
        token_hash text primary key,
        session_id uuid not null references session(id) on delete cascade,
        created_at timestamptz not null default now(),
        used_at timestamptz null
      );
    `);
    this.addSql('create index refresh_token_session_idx on refresh_token (session_id);');

    this.addSql(`
      create table login_throttle (
        email text primary key,
        failures integer not null default 0,
        window_started_at timestamptz not null default now(),
        locked_until timestamptz null
      );
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists login_throttle;');
    this.addSql('drop table if exists refresh_token;');
    this.addSql('drop table if exists session;');
    this.addSql('drop table if exists "user";');
  }
}
