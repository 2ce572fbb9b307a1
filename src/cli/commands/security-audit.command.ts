import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../../config';
import { runSecurityAudit, securityAuditInput, type SecurityAuditReport } from '../../services/security/security-audit';
import { CliError, ExitCode } from '../runtime';

/** Exit code of `vigil security-audit` for a report: 1 for HIGH or CRITICAL, 0 otherwise. */
export function securityAuditExitCode(report: SecurityAuditReport): number {
  return report.riskLevel === 'HIGH' || report.riskLevel === 'CRITICAL' ? ExitCode.FAILURE : ExitCode.OK;
}

/** The report as the terminal shows it. */
export function formatSecurityAudit(report: SecurityAuditReport): string {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = report.checks.map((c) => `  ${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.message}`);
  return [`risk: ${report.riskLevel} (score ${report.riskScore})`, ...lines].join('\n');
}

export function registerSecurityAuditCommand(program: Command): void {
  program
    .command('security-audit')
    .description('score the configuration in the environment; exit 1 when the risk is HIGH or CRITICAL')
    .option('--json', 'print the report as JSON')
    .action((options: { json?: boolean }) => {
      let config: Config;
      try {
        config = loadConfig();
      } catch (error) {
        if (error instanceof ConfigError) throw new CliError(error.message, ExitCode.USAGE);
        throw error;
      }
      const report = runSecurityAudit(securityAuditInput(config));
      console.log(options.json ? JSON.stringify(report, null, 2) : formatSecurityAudit(report));
      process.exitCode = securityAuditExitCode(report);
    });
}
