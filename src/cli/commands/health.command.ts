import type { Command } from 'commander';
import { HealthStatus } from '../../schema/enums';
import { databaseCheck } from '../../services/health/checks';
import { HealthService } from '../../services/health/health.service';
import { withRuntime } from '../runtime';

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description('check the database and the other components; exit 0 when UP, 1 when DEGRADED, 2 when DOWN')
    .option('--json', 'print the report as JSON')
    .action(async (options: { json?: boolean }) => {
      const report = await withRuntime(async ({ orm, config, logger }) => {
        const health = new HealthService({
          checks: [databaseCheck(orm)],
          checkTimeoutMs: config.health.checkTimeoutMs,
          cacheMs: 0,
          intervalMs: 0,
          logger,
        });
        return health.runChecks();
      });
      if (options.json) console.log(JSON.stringify(report, null, 2));
      else {
        console.log(`overall: ${report.status}`);
        for (const c of report.components) console.log(`  ${c.name.padEnd(12)} ${c.status.padEnd(9)} ${c.latencyMs} ms${c.detail ? `  ${c.detail}` : ''}`);
      }
      process.exitCode = report.status === HealthStatus.UP ? 0 : report.status === HealthStatus.DEGRADED ? 1 : 2;
    });
}
