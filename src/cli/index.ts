import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { registerHealthCommand } from './commands/health.command';
import { registerMigrateCommand } from './commands/migrate.command';
import { CliError } from './runtime';

/** Builds the `vigil` command; each area registers its own subcommands. */
export function createProgram(): Command {
  const program = new Command('vigil')
    .description('Vigil — operate the GraphQL gateway for trust-and-safety and security-operations teams')
    .showHelpAfterError()
    .exitOverride();
  registerMigrateCommand(program);
  registerHealthCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(`vigil: ${message}`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}

if (require.main === module || process.argv[1]?.endsWith('vigil.js')) {
  void main(process.argv);
}
