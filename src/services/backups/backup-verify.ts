import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import type { RequestMeta } from '../../context';
import type { Backup } from '../../entities/backup.entity';
import { BackupVerification, type BackupCheck } from '../../entities/backup-verification.entity';
import { BackupVerificationKind } from '../../schema/backup.enums';
import type { BackupContext } from './backup-context';
import { openDedicatedConnection, quoteIdent } from './backup-connection';
import { PRESERVED_TABLES, message } from './backup-events';
import { backupFiles, readManifest, type BackupManifest } from './backup-manifest';
import type { OperationLedger } from './backup-operations';
import { countRows, serverIdentity } from './pg-catalog';
import { withDatabase, type PgTools } from './pg-tools';

/**
 * Prefix of the scratch databases trial restores of `databaseUrl`'s database use; the reconciler
 * drops any left behind. It names the database verified, because scratch databases live beside
 * every other database of the server, some of which may belong to other deployments.
 */
export function scratchPrefix(databaseUrl: string): string {
  const database = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  return `vigil_verify_${createHash('sha256').update(database).digest('hex').slice(0, 10)}_`;
}

/**
 * Checks backups: manifest, size and SHA-256 against the manifest, origin, the archive's table of
 * contents, then a trial restore into a scratch database whose row counts must equal the
 * manifest's. The verification has a start record (operation + BACKUP_VERIFY_START) and an outcome
 * (BACKUP_VERIFY), so one interrupted by the instance's death is still accounted for.
 */
export class BackupVerifier {
  constructor(
    private readonly ctx: BackupContext,
    private readonly ledger: OperationLedger,
  ) {}

  /** Verifies a SUCCEEDED backup and keeps the result as evidence. */
  async verify(
    tools: PgTools,
    meta: RequestMeta,
    backup: Backup,
    options: { kind?: BackupVerificationKind; scheduledFor?: Date } = {},
  ): Promise<BackupVerification> {
    const scratch = `${scratchPrefix(this.ctx.databaseUrl)}${randomBytes(6).toString('hex')}`;
    const owner = await openDedicatedConnection(this.ctx.databaseUrl);
    try {
      const operationId = await this.ledger.begin(owner, { kind: 'VERIFY', backupId: backup.id, meta, scratchDatabase: scratch });
      await this.ctx.audit(meta, { action: 'BACKUP_VERIFY_START', resourceType: 'Backup', resourceId: backup.id });
      let checks: BackupCheck[];
      try {
        const files = await this.fileChecks(tools, backup);
        checks = files.checks;
        if (files.manifest && checks.every((c) => c.ok)) checks.push(...(await this.trialRestore(tools, owner, files.manifest, scratch)));
        else checks.push({ name: 'trialRestore', ok: false, detail: 'skipped: the file checks failed' });
      } catch (error) {
        await this.ledger.finish(owner, operationId, 'FAILED', message(error)).catch(() => undefined);
        await this.ctx
          .audit(meta, { action: 'BACKUP_VERIFY', outcome: 'FAILED', resourceType: 'Backup', resourceId: backup.id, reason: message(error) })
          .catch((err: unknown) => this.ctx.log.error({ err }, 'could not audit a failed verification'));
        throw error;
      }
      const em = this.ctx.deps.orm.em.fork();
      const verification = em.create(BackupVerification, {
        backupId: backup.id,
        kind: options.kind ?? BackupVerificationKind.VERIFY,
        ok: checks.every((c) => c.ok),
        checks,
        at: new Date(),
        scheduledFor: options.scheduledFor ?? null,
        createdById: meta.actor?.id ?? null,
      });
      await em.transactional(async (tx) => {
        tx.persist(verification);
        await tx.flush();
        await this.ctx.deps.audit.record(tx, meta, {
          action: 'BACKUP_VERIFY',
          resourceType: 'Backup',
          resourceId: backup.id,
          outcome: verification.ok ? 'SUCCESS' : 'FAILED',
          changes: { after: { kind: verification.kind, ok: verification.ok, failed: checks.filter((c) => !c.ok).map((c) => c.name) } },
        });
      });
      await this.ledger.finish(owner, operationId, 'SUCCEEDED').catch((err: unknown) => this.ctx.log.error({ err }, 'could not close a verification record'));
      return verification;
    } finally {
      await owner.end().catch(() => undefined);
    }
  }

  /** Checks that need only the files: manifest, size, checksum, origin, archive readability. */
  async fileChecks(tools: PgTools, backup: Backup): Promise<{ checks: BackupCheck[]; manifest: BackupManifest | null }> {
    const files = backupFiles(this.ctx.directory, backup.id);
    const checks: BackupCheck[] = [];
    const manifest = await readManifest(files.manifest);
    if (!manifest || manifest.id !== backup.id) {
      checks.push({ name: 'manifest', ok: false, detail: `no valid manifest at ${path.basename(files.manifest)}` });
      return { checks, manifest: null };
    }
    if (backup.sha256 && backup.sha256 !== manifest.sha256) {
      // Archive and manifest replaced together would pass the checksum; the database remembers.
      checks.push({ name: 'manifest', ok: false, detail: `the manifest's sha256 ${manifest.sha256} differs from the recorded ${backup.sha256}` });
      return { checks, manifest: null };
    }
    checks.push({ name: 'manifest', ok: true, detail: `${manifest.file}, schema ${manifest.schemaVersion ?? 'none'}` });

    let size: number | null = null;
    try {
      size = (await stat(files.archive)).size;
    } catch {
      checks.push({ name: 'size', ok: false, detail: `the archive ${manifest.file} is missing` });
      return { checks, manifest };
    }
    checks.push({
      name: 'size',
      ok: size === manifest.sizeBytes,
      detail: size === manifest.sizeBytes ? `${size} bytes` : `${size} bytes on disk, ${manifest.sizeBytes} in the manifest (truncated or altered)`,
    });
    const sha256 = await fileSha256(files.archive);
    checks.push({
      name: 'checksum',
      ok: sha256 === manifest.sha256,
      detail: sha256 === manifest.sha256 ? `sha256 ${sha256}` : `sha256 ${sha256} does not match the manifest's ${manifest.sha256}`,
    });

    const client = await openDedicatedConnection(this.ctx.databaseUrl);
    try {
      const here = await serverIdentity(client);
      const sameSystem =
        !here.systemIdentifier || !manifest.database.systemIdentifier || here.systemIdentifier === manifest.database.systemIdentifier;
      const ok = sameSystem && here.database === manifest.database.name;
      checks.push({
        name: 'database',
        ok,
        detail: ok
          ? `taken from ${manifest.database.name}`
          : `taken from database ${manifest.database.name} (system ${manifest.database.systemIdentifier ?? '?'}), not this one (${here.database}, system ${here.systemIdentifier ?? '?'})`,
      });
    } finally {
      await client.end().catch(() => undefined);
    }

    try {
      const toc = await this.ctx.runTool(tools.pgRestore, ['--list', files.archive], this.ctx.toolEnv());
      const dbname = /^;\s+dbname:\s+(.+)$/m.exec(toc)?.[1]?.trim();
      const entries = toc.split('\n').filter((l) => l && !l.startsWith(';')).length;
      const ok = dbname === manifest.database.name;
      checks.push({
        name: 'archive',
        ok,
        detail: ok ? `${entries} entries` : `the archive was dumped from ${dbname ?? 'an unknown database'}, the manifest says ${manifest.database.name}`,
      });
    } catch (error) {
      checks.push({ name: 'archive', ok: false, detail: `pg_restore cannot read it: ${message(error)}` });
    }
    return { checks, manifest };
  }

  /** Restores into the scratch database (always dropped afterwards) and compares row counts. */
  private async trialRestore(tools: PgTools, admin: Client, manifest: BackupManifest, scratch: string): Promise<BackupCheck[]> {
    const checks: BackupCheck[] = [];
    try {
      await admin.query(`create database ${quoteIdent(scratch)} template template0`);
      const started = Date.now();
      try {
        await this.ctx.runTool(
          tools.pgRestore,
          ['--exit-on-error', '--no-owner', '--no-acl', '--no-password', `--dbname=${scratch}`, backupFiles(this.ctx.directory, manifest.id).archive],
          this.ctx.toolEnv(withDatabase(this.ctx.databaseUrl, scratch)),
        );
        checks.push({ name: 'trialRestore', ok: true, detail: `restored into a scratch database in ${Date.now() - started} ms` });
      } catch (error) {
        checks.push({ name: 'trialRestore', ok: false, detail: message(error) });
        return checks;
      }
      const restored = await openDedicatedConnection(withDatabase(this.ctx.databaseUrl, scratch));
      try {
        const counts = await countRows(restored, PRESERVED_TABLES);
        const tables = new Set([...Object.keys(counts), ...Object.keys(manifest.rowCounts)]);
        const differences = [...tables]
          .sort()
          .filter((t) => counts[t] !== manifest.rowCounts[t])
          .map((t) => `${t}: ${counts[t] ?? 'missing'} restored, ${manifest.rowCounts[t] ?? 'absent'} in the manifest`);
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        checks.push({
          name: 'rowCounts',
          ok: differences.length === 0,
          detail: differences.length ? differences.slice(0, 10).join('; ') : `${tables.size} tables, ${total} rows, as in the manifest`,
        });
      } finally {
        await restored.end().catch(() => undefined);
      }
      return checks;
    } finally {
      await admin
        .query(`drop database if exists ${quoteIdent(scratch)} with (force)`)
        .catch((err: unknown) => this.ctx.log.error({ err, database: scratch }, 'could not drop the scratch database'));
    }
  }
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
