import { Migration } from '@mikro-orm/migrations';

/**
 * The audit trail: `audit_log` (append-only, hash-chained), `audit_anchor` (where the chain starts
 * after retention removed its oldest entries) and `audit_verification` (the last chain check).
 * Triggers make the trail append-only in the database itself: UPDATE is always refused, DELETE
 * only inside a transaction that set `vigil.audit_retention = 'on'` (the retention job), TRUNCATE
 * always.
 */
export class Migration20261123000500_audit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table audit_log (
        id uuid primary key,
        seq bigint not null,
        at timestamptz not null,
        actor_id uuid null,
        actor_email text null,
        actor_role text null,
        action text not null,
        resource_type text null,
        resource_id text null,
        outcome text not null,
        changes jsonb null,
        ip text null,
        user_agent text null,
        request_id text null,
        operation_name text null,
        reason text null,
        hash text not null,
        prev_hash text null,
        constraint audit_log_seq_unique unique (seq),
        constraint audit_log_seq_positive check (seq > 0),
        constraint audit_log_outcome_check check (outcome in ('SUCCESS', 'DENIED', 'FAILED'))
      );
    `);
    this.addSql('create index audit_log_at_index on audit_log (at);');
    this.addSql('create index audit_log_actor_seq_index on audit_log (actor_id, seq);');
    this.addSql('create index audit_log_action_seq_index on audit_log (action, seq);');
    this.addSql('create index audit_log_resource_seq_index on audit_log (resource_type, resource_id, seq);');
    this.addSql('create index audit_log_resource_id_seq_index on audit_log (resource_id, seq);');
    this.addSql('create index audit_log_outcome_seq_index on audit_log (outcome, seq);');

    this.addSql(`
      create table audit_anchor (
        id smallint primary key default 1,
        seq bigint not null,
        hash text not null,
        removed_count bigint not null,
        updated_at timestamptz not null default now(),
        constraint audit_anchor_single_row check (id = 1)
      );
    `);

    this.addSql(`
      create table audit_verification (
        id smallint primary key default 1,
        at timestamptz not null,
        ok boolean not null,
        checked_count bigint not null,
        first_broken_seq bigint null,
        last_seq bigint null,
        last_hash text null,
        constraint audit_verification_single_row check (id = 1)
      );
    `);

    // Takes the chain lock and then reads the head. In READ COMMITTED every statement of a
    // volatile function gets a fresh snapshot, so the head is read after the lock is granted, and
    // an append needs one round trip less while it holds the lock.
    this.addSql(`
      create function vigil_audit_chain_head(lock_key bigint,
        out head_seq bigint, out head_hash text, out head_at_ms bigint, out isolation text)
      language plpgsql volatile as $$
      begin
        perform pg_advisory_xact_lock(lock_key);
        isolation := current_setting('transaction_isolation');
        select l.seq, l.hash, floor(extract(epoch from l.at) * 1000)::bigint
          into head_seq, head_hash, head_at_ms
          from audit_log l order by l.seq desc limit 1;
        if not found then
          select a.seq, a.hash into head_seq, head_hash from audit_anchor a where a.id = 1;
        end if;
      end
      $$;
    `);
    this.addSql(`
      create function vigil_audit_log_guard() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and current_setting('vigil.audit_retention', true) = 'on' then
          return old;
        end if;
        raise exception 'audit_log is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
      end
      $$;
    `);
    this.addSql(`
      create trigger audit_log_append_only before update or delete on audit_log
        for each row execute function vigil_audit_log_guard();
    `);
    this.addSql(`
      create trigger audit_log_no_truncate before truncate on audit_log
        for each statement execute function vigil_audit_log_guard();
    `);

    this.addSql(`
      create function vigil_audit_anchor_guard() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'TRUNCATE' and current_setting('vigil.audit_retention', true) = 'on' then
          return case when tg_op = 'DELETE' then old else new end;
        end if;
        raise exception 'audit_anchor is written only by the retention job: % refused', tg_op
          using errcode = 'insufficient_privilege';
      end
      $$;
    `);
    this.addSql(`
      create trigger audit_anchor_guard before insert or update or delete on audit_anchor
        for each row execute function vigil_audit_anchor_guard();
    `);
    this.addSql(`
      create trigger audit_anchor_no_truncate before truncate on audit_anchor
        for each statement execute function vigil_audit_anchor_guard();
    `);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists audit_verification;');
    this.addSql('drop table if exists audit_anchor;');
    this.addSql('drop table if exists audit_log;');
    this.addSql('drop function if exists vigil_audit_anchor_guard();');
    this.addSql('drop function if exists vigil_audit_chain_head(bigint);');
    this.addSql('drop function if exists vigil_audit_log_guard();');
  }
}
