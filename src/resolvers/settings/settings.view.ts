import { BadUserInputError } from '../../errors';
import { rangeOf, SETTINGS, type SettingValue } from '../../services/settings/settings.catalog';
import type { MaintenanceChange, SettingsService, SettingsSnapshot } from '../../services/settings/settings.service';
import type { SettingsPatch } from '../../services/settings/settings.validation';
import type { SystemSettings } from './settings.types';
import type { SystemSettingsInput } from './settings.inputs';

type Group = Record<string, unknown>;

/** The GraphQL shape of a settings snapshot: each catalog entry at its path, per-role entries as lists. */
export function settingsView(settings: Pick<SettingsService, 'describe'>, snapshot: SettingsSnapshot): SystemSettings {
  const groups: Record<string, Group> = {};
  for (const view of settings.describe(snapshot)) {
    const [group, name, role] = view.definition.key.split('.') as [string, string, string | undefined];
    const entry = {
      effective: view.effective,
      source: view.source,
      defaultValue: view.bootValue,
      variable: view.definition.variable,
      ...rangeOf(view.definition),
    };
    const target = (groups[group] ??= {});
    if (role) ((target[name] ??= []) as unknown[]).push({ role, ...entry });
    else target[name] = entry;
  }
  return {
    version: snapshot.version,
    updatedAt: snapshot.updatedAt,
    updatedById: snapshot.updatedById,
    ...groups,
    maintenance: snapshot.maintenance,
  } as unknown as SystemSettings;
}

/** The value field of a per-role input entry, by list name. */
const ROLE_VALUE_FIELD: Record<string, string> = { roleRequestLimits: 'limit', mfaRequired: 'required' };

/**
 * The service's patch from the GraphQL input: absent fields are not in it, null fields reset.
 * A role listed twice in one list is BAD_USER_INPUT.
 */
export function patchFromInput(input: SystemSettingsInput): { patch: SettingsPatch; maintenance: MaintenanceChange } {
  const patch = new Map<string, SettingValue>();
  const groups = input as unknown as Record<string, Group | null | undefined>;
  for (const [listGroup, listName] of [
    ['protection', 'roleRequestLimits'],
    ['identity', 'mfaRequired'],
  ] as const) {
    const list = groups[listGroup]?.[listName] as { role: string }[] | null | undefined;
    const roles = (list ?? []).map((e) => e.role);
    if (new Set(roles).size !== roles.length) throw new BadUserInputError(`${listName} names a role twice`, `input.${listGroup}.${listName}`);
  }
  for (const definition of SETTINGS) {
    const [group, name, role] = definition.key.split('.') as [string, string, string | undefined];
    const groupInput = groups[group];
    if (!groupInput) continue;
    if (role) {
      const entry = (groupInput[name] as Group[] | null | undefined)?.find((e) => e.role === role);
      if (!entry) continue;
      const value = entry[ROLE_VALUE_FIELD[name]!];
      patch.set(definition.key, value === undefined ? null : (value as SettingValue));
    } else if (groupInput[name] !== undefined) {
      patch.set(definition.key, groupInput[name] as SettingValue);
    }
  }
  const maintenance: MaintenanceChange = {};
  if (typeof input.maintenance?.enabled === 'boolean') maintenance.enabled = input.maintenance.enabled;
  if (input.maintenance && input.maintenance.message !== undefined) maintenance.message = input.maintenance.message;
  return { patch, maintenance };
}
