import type { Command } from 'commander';
import { migrate } from '../../infra/db';
import { withRuntime } from '../runtime';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations and list what was applied')
    .action(async () => {
      const applied = await withRuntime(({ orm }) => migrate(orm), { migrate: false });
      console.log(applied.length ? `applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}`).join('\n')}` : 'database is up to date');
    });
}
