import { BadUserInputError } from '../../errors';
import { rangeOf, SETTINGS_BY_KEY, type SettingValue } from './settings.catalog';

/**
 * A requested change: a new value per setting key, or `null` to drop the stored value so the boot
 * value (environment, else default) applies again.
 */
export type SettingsPatch = ReadonlyMap<string, SettingValue>;

/**
 * Checks every value of a patch with the zod schema of its environment variable (the schemas of
 * src/config.ts). The first value that fails is BAD_USER_INPUT naming the input field (`field`)
 * and, for numbers, the allowed range (`min`, `max`); nothing is changed then. Returns the values
 * as the schemas parsed them.
 */
export function validatePatch(patch: SettingsPatch, fieldPrefix = 'input'): Map<string, SettingValue> {
  const parsed = new Map<string, SettingValue>();
  for (const [key, value] of patch) {
    const definition = SETTINGS_BY_KEY.get(key);
    if (!definition) throw new BadUserInputError(`${key} is not a setting`, `${fieldPrefix}.${key}`);
    if (value === null) {
      parsed.set(key, null);
      continue;
    }
    const field = `${fieldPrefix}.${key}`;
    const result = definition.schema.safeParse(value);
    if (result.success && typeof result.data === typeof value) {
      parsed.set(key, result.data as SettingValue);
      continue;
    }
    const range = rangeOf(definition);
    if (range) {
      throw new BadUserInputError(`${key} must be an integer between ${range.min} and ${range.max}`, field, { min: range.min, max: range.max });
    }
    const issue = result.success ? 'has the wrong type' : (result.error.issues[0]?.message ?? 'is not allowed');
    throw new BadUserInputError(`${key} ${issue}`, field);
  }
  return parsed;
}
