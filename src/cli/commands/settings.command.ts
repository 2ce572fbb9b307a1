import type { Command } from 'commander';
import { systemMeta } from '../../context';
import { SETTINGS_BY_KEY, type SettingValue } from '../../services/settings/settings.catalog';
import type { MaintenanceChange, SettingsService, SettingsSnapshot } from '../../services/settings/settings.service';
import { CliError, ExitCode } from '../runtime';
import { withServices } from '../services';

/** A `KEY=VALUE` argument as the setting's kind reads it; `KEY=default` drops the stored value. */
export function parseAssignment(assignment: string): [string, SettingValue] {
  const at = assignment.indexOf('=');
  if (at <= 0) throw new CliError(`"${assignment}" is not KEY=VALUE (e.g. protection.anonymousRequestLimit=30)`, ExitCode.USAGE);
  const key = assignment.slice(0, at).trim();
  const raw = assignment.slice(at + 1).trim();
  const definition = SETTINGS_BY_KEY.get(key);
  if (!definition) throw new CliError(`unknown setting "${key}" (vigil settings get lists them)`, ExitCode.USAGE);
  if (raw === 'default') return [key, null];
  switch (definition.kind) {
    case 'int':
      return [key, /^-?\d+$/.test(raw) ? Number(raw) : raw];
    case 'flag':
      if (raw !== 'true' && raw !== 'false') throw new CliError(`${key} is true or false`, ExitCode.USAGE);
      return [key, raw === 'true'];
    default:
      return [key, raw];
  }
}

function rows(settings: SettingsService, snapshot: SettingsSnapshot): { key: string; effective: SettingValue; source: string; variable: string }[] {
  return settings.describe(snapshot).map((v) => ({ key: v.definition.key, effective: v.effective, source: v.source, variable: v.definition.variable }));
}

function print(settings: SettingsService, snapshot: SettingsSnapshot, json: boolean): void {
  const m = snapshot.maintenance;
  if (json) {
    console.log(JSON.stringify({ version: snapshot.version, updatedAt: snapshot.updatedAt.toISOString(), maintenance: m, settings: rows(settings, snapshot) }));
    return;
  }
  console.log(`version ${snapshot.version} (updated ${snapshot.updatedAt.toISOString()})`);
  console.log(`maintenance: ${m.enabled ? `ON since ${m.since?.toISOString() ?? '?'} — ${m.reason ?? ''}${m.message ? ` — "${m.message}"` : ''}` : 'off'}`);
  const width = Math.max(...rows(settings, snapshot).map((r) => r.key.length));
  for (const r of rows(settings, snapshot)) console.log(`${r.key.padEnd(width)}  ${String(r.effective).padEnd(14)} ${r.source.padEnd(11)} ${r.variable}`);
}

/** `vigil settings get|set|history`: the runtime settings from the command line (changes audited as the system). */
export function registerSettingsCommand(program: Command): void {
  const settings = program.command('settings').description('read and change the runtime settings every gateway applies (and maintenance mode)');

  settings
    .command('get')
    .description('print every runtime setting with its effective value, its source (DEFAULT, ENVIRONMENT, STORED) and its variable')
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      await withServices(async (s) => print(s.settings, s.settings.current(), Boolean(options.json)));
    });

  settings
    .command('set')
    .description('change settings as one new version: KEY=VALUE … (KEY=default returns a setting to its boot value); running gateways apply it within a second')
    .argument('[assignments...]', 'e.g. protection.anonymousRequestLimit=30 retention.backupSchedule="0 2 * * *"')
    .option('--expected-version <n>', 'refuse (CONFLICT, exit 1) unless the settings are still at this version')
    .option('--maintenance <on|off>', 'turn maintenance mode on or off')
    .option('--message <text>', 'what refused writes answer with during maintenance')
    .option('--json', 'print the result as JSON')
    .action(async (assignments: string[], options: { expectedVersion?: string; maintenance?: string; message?: string; json?: boolean }) => {
      const patch = new Map(assignments.map(parseAssignment));
      const maintenance: MaintenanceChange = {};
      if (options.maintenance !== undefined) {
        if (options.maintenance !== 'on' && options.maintenance !== 'off') throw new CliError('--maintenance is on or off', ExitCode.USAGE);
        maintenance.enabled = options.maintenance === 'on';
      }
      if (options.message !== undefined) maintenance.message = options.message;
      if (!patch.size && maintenance.enabled === undefined && maintenance.message === undefined) {
        throw new CliError('nothing to change: give KEY=VALUE, --maintenance or --message', ExitCode.USAGE);
      }
      let expected: number | undefined;
      if (options.expectedVersion !== undefined) {
        expected = Number(options.expectedVersion);
        if (!Number.isInteger(expected) || expected < 0) throw new CliError('--expected-version is a version number', ExitCode.USAGE);
      }
      await withServices(async (s) => {
        const version = expected ?? s.settings.current().version;
        const after = await s.settings.update(systemMeta('cli:settings:set'), version, patch, maintenance);
        if (options.json) print(s.settings, after, true);
        else console.log(after.version === version ? `nothing changed (version ${version})` : `settings now at version ${after.version}`);
      });
    });

  settings
    .command('history')
    .description('print the changes of the settings, newest first')
    .option('--first <n>', 'how many (1–100)', '20')
    .option('--json', 'print as JSON lines')
    .action(async (options: { first: string; json?: boolean }) => {
      const first = Number(options.first);
      if (!Number.isInteger(first) || first < 1 || first > 100) throw new CliError('--first is between 1 and 100', ExitCode.USAGE);
      await withServices(async (s, rt) => {
        const page = await s.settings.history(rt.orm.em.fork(), { first });
        for (const { node } of page.edges) {
          if (options.json) {
            console.log(JSON.stringify(node));
            continue;
          }
          const who = node.actorEmail ?? 'system';
          const what = node.changes.map((c) => `${c.key}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`).join('; ');
          console.log(`v${node.version}  ${node.at.toISOString()}  ${who}${node.reason ? ` (${node.reason})` : ''}  ${what}`);
        }
      });
    });
}
