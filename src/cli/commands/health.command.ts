import type { Command } from 'commander';
import { HealthStatus } from '../../schema/enums';
import { databaseCheck } from '../../services/health/checks';
import type { ComponentReport, HealthReport } from '../../services/health/health-check';
import { HealthService } from '../../services/health/health.service';
import { CliError, ExitCode, withRuntime } from '../runtime';

/** What `vigil health` exits with: the monitoring convention, whatever went wrong on the way. */
export const HealthExitCode: Readonly<Record<HealthStatus, number>> = {
  [HealthStatus.UP]: 0,
  [HealthStatus.DEGRADED]: 1,
  [HealthStatus.DOWN]: 2,
};

/** The report as one line: `UP: database UP (3 ms)`, details after a colon, components by commas. */
export function healthLine(report: HealthReport): string {
  const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
  const parts = report.components.map((c) => `${c.name} ${c.status} (${Math.round(c.latencyMs ?? 0)} ms)${c.detail ? `: ${oneLine(c.detail)}` : ''}`);
  return `${report.status}: ${parts.join(', ')}`;
}

/** `vigil health`: one line (or `--json`), with an exit code a monitor can act on. */
export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description('check the database; prints one line and exits 0 when UP, 1 when DEGRADED, 2 when DOWN (an unreachable database is DOWN)')
    .option('--json', 'print the report as JSON')
    .action(async (options: { json?: boolean }) => {
      const report = await checkHealth();
      console.log(options.json ? JSON.stringify(report, null, 2) : healthLine(report));
      process.exitCode = HealthExitCode[report.status];
    });
}

/**
 * Runs the checks. A database that cannot be opened (unreachable, refusing, an embedded database
 * that cannot start) is the answer DOWN, not a failure of the command; only a wrong setting is a
 * usage error.
 */
async function checkHealth(): Promise<HealthReport> {
  const started = Date.now();
  try {
    return await withRuntime(
      async ({ orm, config, logger }) => {
        const health = new HealthService({
          checks: [databaseCheck(orm)],
          checkTimeoutMs: config.health.checkTimeoutMs,
          cacheMs: 0,
          intervalMs: 0,
          logger,
        });
        return health.runChecks();
      },
      { migrate: false, logLevel: 'silent' },
    );
  } catch (error) {
    if (error instanceof CliError && error.exitCode === ExitCode.USAGE) throw error;
    const database: ComponentReport = {
      name: 'database',
      status: HealthStatus.DOWN,
      critical: true,
      latencyMs: Date.now() - started,
      detail: error instanceof Error ? error.message : String(error),
    };
    return { status: HealthStatus.DOWN, checkedAt: new Date(), components: [database] };
  }
}
