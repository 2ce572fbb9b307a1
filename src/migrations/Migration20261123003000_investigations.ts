import { Migration } from '@mikro-orm/migrations';

/**
 * Investigations, their findings, recommended actions and notes. Children are deleted with their
 * investigation (ON DELETE CASCADE). Every filter and sort of `investigations(...)` has an index;
 * text search uses generated tsvector columns with GIN indexes on the investigation (title,
 * description) and on each finding (summary).
 */
export class Migration20261123003000_investigations extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table investigation (
        id uuid primary key,
        title text not null,
        description text null,
        trigger text null,
        status text not null default 'OPEN'
          check (status in ('OPEN', 'IN_PROGRESS', 'ESCALATED', 'CLOSED')),
        risk_level text not null default 'MEDIUM'
          check (risk_level in ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
        risk_rank smallint generated always as (
          case risk_level when 'LOW' then 0 when 'MEDIUM' then 1 when 'HIGH' then 2 else 3 end
        ) stored,
        assignee_id uuid null references "user" (id) on delete set null,
        created_by_id uuid not null references "user" (id),
        tags text[] not null default '{}',
        version integer not null default 1,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        closed_at timestamptz null,
        search tsvector generated always as (
          setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
          setweight(to_tsvector('english', coalesce(description, '')), 'B')
        ) stored
      );
    `);
    this.addSql('create index investigation_created_idx on investigation (created_at, id);');
    this.addSql('create index investigation_updated_idx on investigation (updated_at, id);');
    this.addSql('create index investigation_risk_idx on investigation (risk_rank, id);');
    this.addSql('create index investigation_title_idx on investigation (title, id);');
    this.addSql('create index investigation_status_created_idx on investigation (status, created_at, id);');
    this.addSql('create index investigation_risk_level_created_idx on investigation (risk_level, created_at, id);');
    this.addSql('create index investigation_assignee_created_idx on investigation (assignee_id, created_at, id);');
    this.addSql('create index investigation_created_by_idx on investigation (created_by_id);');
    this.addSql('create index investigation_tags_idx on investigation using gin (tags);');
    this.addSql('create index investigation_search_idx on investigation using gin (search);');

    this.addSql(`
      create table finding (
        id uuid primary key,
        investigation_id uuid not null references investigation (id) on delete cascade,
        summary text not null,
        evidence jsonb null,
        risk_level text not null default 'MEDIUM'
          check (risk_level in ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
        source text null,
        observed_at timestamptz null,
        subject_email text null,
        subject_ip text null,
        subject_name text null,
        created_by_id uuid null references "user" (id) on delete set null,
        created_at timestamptz not null default now(),
        search tsvector generated always as (to_tsvector('english', summary)) stored
      );
    `);
    this.addSql('create index finding_investigation_created_idx on finding (investigation_id, created_at, id);');
    this.addSql('create index finding_search_idx on finding using gin (search);');

    this.addSql(`
      create table recommended_action (
        id uuid primary key,
        investigation_id uuid not null references investigation (id) on delete cascade,
        title text not null,
        detail text null,
        status text not null default 'PROPOSED'
          check (status in ('PROPOSED', 'APPROVED', 'IN_PROGRESS', 'DONE', 'REJECTED')),
        owner_id uuid null references "user" (id) on delete set null,
        due_at timestamptz null,
        created_by_id uuid null references "user" (id) on delete set null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
    `);
    this.addSql('create index recommended_action_investigation_idx on recommended_action (investigation_id, created_at, id);');
    this.addSql('create index recommended_action_owner_idx on recommended_action (owner_id);');

    this.addSql(`
      create table note (
        id uuid primary key,
        investigation_id uuid not null references investigation (id) on delete cascade,
        author_id uuid null references "user" (id) on delete set null,
        body text not null,
        created_at timestamptz not null default now()
      );
    `);
    this.addSql('create index note_investigation_idx on note (investigation_id, created_at, id);');
    this.addSql('create index note_author_idx on note (author_id);');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists note;');
    this.addSql('drop table if exists recommended_action;');
    this.addSql('drop table if exists finding;');
    this.addSql('drop table if exists investigation;');
  }
}
