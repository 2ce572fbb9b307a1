import type { Command } from 'commander';
import { HealthStatus } from '../../schema/enums';
import { databaseCheck } from '../../services/health/checks';
import type { ComponentReport, HealthReport } from '../../services/health/health-check';
import { HealthService } from '../../services/health/health.service';
import { CliError, ExitCode, withRuntime } from '../runtime';

/** `vigil health`: the component report, with an exit code a monitor can act on. */
export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description('check the database and the other components; exit 0 when UP, 1 when DEGRADED, 2 when DOWN')
    .option('--json', 'print the report as JSON')
    .action(async (options: { json?: boolean }) => {
      const report = await checkHealth();
      if (options.json) console.log(JSON.stringify(report, null, 2));
      else {
        console.log(`overall: ${report.status}`);
        for (const c of report.components) console.log(`  ${c.name.padEnd(12)} ${c.status.padEnd(9)} ${c.latencyMs} ms${c.detail ? `  ${c.detail}` : ''}`);
      }
      process.exitCode = report.status === HealthStatus.UP ? 0 : report.status === HealthStatus.DEGRADED ? 1 : 2;
    });
}

/** Runs the checks; a database that cannot be opened is the answer DOWN, not a failure of the command. */
async function checkHealth(): Promise<HealthReport> {
  const started = Date.now();
  try {
    return await withRuntime(async ({ orm, config, logger }) => {
      const health = new HealthService({
        checks: [databaseCheck(orm)],
        checkTimeoutMs: config.health.checkTimeoutMs,
        cacheMs: 0,
        intervalMs: 0,
        logger,
      });
      return health.runChecks();
    });
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== ExitCode.FAILURE) throw error;
    const database: ComponentReport = {
      name: 'database',
      status: HealthStatus.DOWN,
      critical: true,
      latencyMs: Date.now() - started,
      detail: error.message,
    };
    return { status: HealthStatus.DOWN, checkedAt: new Date(), components: [database] };
  }
}
