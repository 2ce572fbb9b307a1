import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { registerAuditCommand } from './commands/audit.command';
import { registerBackupCommand } from './commands/backup.command';
import { registerHealthCommand } from './commands/health.command';
import { registerMigrateCommand } from './commands/migrate.command';
import { registerSeedCommand } from './commands/seed.command';
import { registerSecurityAuditCommand } from './commands/security-audit.command';
import { registerSettingsCommand } from './commands/settings.command';
import { registerUserCommand } from './commands/user.command';
import { loadEnvFile } from '../infra/env-file';
import { CliError, ExitCode } from './runtime';

/** Builds the `vigil` command; each area registers its own subcommands. */
export function createProgram(): Command {
  const program = new Command('vigil')
    .description('Vigil — operate the GraphQL gateway for trust-and-safety and security-operations teams')
    .showHelpAfterError('(run `vigil <command> --help` for usage)')
    .exitOverride();
  registerMigrateCommand(program);
  registerHealthCommand(program);
  registerSeedCommand(program);
  registerSecurityAuditCommand(program);
  registerBackupCommand(program);
  registerUserCommand(program);
  registerAuditCommand(program);
  registerSettingsCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    loadEnvFile();
    await createProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed the message; a wrong command line is a usage error, not a failure.
      process.exitCode = error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(`vigil: ${message}`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}

if (require.main === module || process.argv[1]?.endsWith('vigil.js')) {
  void main(process.argv).finally(() => {
    // A database driver that failed to connect can leave timers behind: a finished command must not hang on them.
    setTimeout(() => process.exit(), 1000).unref();
  });
}
