import type { Command } from 'commander';
import { createVigilPubSub } from '../../infra/pubsub';
import { AuditService } from '../../services/audit/audit.service';
import { CliError, withRuntime, type CliRuntime } from '../runtime';

function auditService({ orm, logger, config }: CliRuntime): AuditService {
  return new AuditService({ orm, pubsub: createVigilPubSub(), logger, retentionDays: config.audit.retentionDays });
}

/** `vigil audit verify` and `vigil audit prune`: the audit chain from the command line. */
export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('verify the audit chain or apply its retention');

  audit
    .command('verify')
    .description('walk the whole audit chain and recompute every hash; exit 0 when intact, 1 when broken')
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const result = await withRuntime((rt) => auditService(rt).verifyChain());
      if (options.json) console.log(JSON.stringify(result));
      else if (result.ok) console.log(`audit chain intact: ${result.checkedCount} entries verified`);
      else console.log(`audit chain BROKEN at seq ${result.firstBrokenSeq} (${result.checkedCount} entries checked)`);
      process.exitCode = result.ok ? 0 : 1;
    });

  audit
    .command('prune')
    .description('remove entries older than VIGIL_AUDIT_RETENTION_DAYS now (as the daily job does), keeping the chain verifiable')
    .action(async () => {
      const result = await withRuntime((rt) => auditService(rt).applyRetention());
      if (!result) throw new CliError('the retention job is running on another instance; try again later');
      console.log(
        result.removed
          ? `removed ${result.removed} audit entries; the chain now starts after seq ${result.anchorSeq}`
          : 'no audit entries are older than the retention period',
      );
    });
}
