import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { seedDemo, type DemoSeedResult } from '../../services/investigations/demo-seed';
import { CliError, ExitCode } from '../runtime';
import { withServices } from '../services';

export interface SeedCommandOptions {
  demo?: boolean;
  investigations: number;
  findingsPer: number;
  batchSize: number;
  password?: string;
  seed: number;
}

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new CliError(`${name} must be an integer from 0 to ${max}`, ExitCode.USAGE);
    return n;
  };
}

/** Progress on stderr: a bar on a terminal, a plain line per batch otherwise (logs, CI). */
function progressReporter(): { update(done: number, total: number): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar(
      { format: 'investigations [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left', stream: process.stderr },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, done);
          started = true;
        } else bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  return {
    update: (done, total) => process.stderr.write(`seeded ${done}/${total} investigations\n`),
    stop: () => undefined,
  };
}

/** Runs `vigil seed --demo`; returns what was created (the tests call it directly). */
export async function runSeed(options: SeedCommandOptions, print: (line: string) => void = console.log): Promise<DemoSeedResult> {
  if (!options.demo) throw new CliError('nothing to seed: pass --demo to create demo users and investigations', ExitCode.USAGE);
  const password = options.password ?? randomBytes(12).toString('base64url');
  const started = Date.now();
  const result = await withServices(async (services, { orm }) => {
    const progress = progressReporter();
    try {
      return await seedDemo(orm, { users: services.users, audit: services.audit }, {
        investigations: options.investigations,
        findingsPer: options.findingsPer,
        batchSize: options.batchSize,
        password,
        seed: options.seed,
        onProgress: (done, total) => progress.update(done, total),
      });
    } finally {
      progress.stop();
    }
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  print(
    `created ${result.investigations} investigations, ${result.findings} findings, ${result.actions} actions, ${result.notes} notes in ${seconds} s`,
  );
  print('demo users (one per role):');
  for (const user of result.users) {
    const secret = user.created ? `password ${password}` : 'already existed, password unchanged';
    print(`  ${user.role.padEnd(15)} ${user.email}  ${secret}`);
  }
  return result;
}

/** `vigil seed --demo [--investigations N] [--findings-per 10]`. */
export function registerSeedCommand(program: Command): void {
  program
    .command('seed')
    .description('fill the database with demo data: one user per role and realistic investigations')
    .option('--demo', 'create the demo users and investigations')
    .addOption(new Option('--investigations <n>', 'how many investigations').argParser(positiveInt('--investigations', 10_000_000)).default(1000))
    .addOption(new Option('--findings-per <n>', 'findings per investigation').argParser(positiveInt('--findings-per', 1000)).default(10))
    .addOption(new Option('--batch-size <n>', 'investigations per transaction').argParser(positiveInt('--batch-size', 20_000)).default(1000))
    .addOption(new Option('--password <password>', 'password of the demo users created now (default: generated and printed)'))
    .addOption(new Option('--seed <n>', 'random seed, for reproducible data').argParser(positiveInt('--seed', 2 ** 31)).default(42))
    .action(async (options: SeedCommandOptions) => {
      await runSeed(options);
    });
}
