import { Field, InputType } from 'type-graphql';
import { BadUserInputError } from '../errors';

/**
 * A span of time in a filter. Every list filter names its range after the field it bounds
 * (`InvestigationFilter.createdAt`, `AuditLogFilter.at`, `AlertFilter.firstSeenAt` …), and every
 * range reads the same way: `from` inclusive, `to` exclusive, either end open when omitted.
 */
@InputType('DateTimeRange', { description: 'A span of time: `from` inclusive, `to` exclusive; an omitted end is open' })
export class DateTimeRange {
  @Field(() => Date, { nullable: true, description: 'At or after this instant; no lower bound when omitted' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Before this instant; no upper bound when omitted' })
  to?: Date | null;
}

/** The bounds a filter's range resolved to, as the services take them. */
export interface TimeBounds {
  from: Date | null;
  to: Date | null;
}

/** The flat pair of fields an older version of a filter used for the same range. */
export interface LegacyRangeFields<F> {
  from: keyof F & string;
  to: keyof F & string;
}

/**
 * The range `filter[field]` asks for, or, for a filter that had one before ranges were
 * `DateTimeRange`s, the deprecated flat pair (`createdFrom`/`createdTo`, `from`/`to`) it still
 * accepts. Both spellings at once are refused with BAD_USER_INPUT naming the fields (which one
 * should win is a guess), and so is a range that ends before it starts, in the spelling given.
 */
export function rangeOf<F extends object>(filter: F | null | undefined, field: keyof F & string, legacy?: LegacyRangeFields<F>): TimeBounds {
  if (!filter) return { from: null, to: null };
  const value = (key: keyof F) => (filter[key] ?? null) as unknown;
  const range = value(field) as DateTimeRange | null;
  const legacyGiven = legacy ? [legacy.from, legacy.to].filter((key) => value(key) !== null) : [];
  if (range && legacyGiven.length) {
    const fields = [field, ...legacyGiven].map((name) => `filter.${name}`);
    throw new BadUserInputError(
      `${fields.join(' and ')} are two spellings of one range: give filter.${field} only (${legacyGiven.join(' and ')} ${legacyGiven.length > 1 ? 'are' : 'is'} deprecated)`,
      `filter.${field}`,
      { fields },
    );
  }
  if (range) return checked({ from: range.from ?? null, to: range.to ?? null }, `filter.${field}.from`, `filter.${field}.to`);
  if (legacy && legacyGiven.length) {
    return checked({ from: value(legacy.from) as Date | null, to: value(legacy.to) as Date | null }, `filter.${legacy.from}`, `filter.${legacy.to}`);
  }
  return { from: null, to: null };
}

function checked(bounds: TimeBounds, fromName: string, toName: string): TimeBounds {
  if (bounds.from && bounds.to && bounds.from > bounds.to) {
    throw new BadUserInputError(`${fromName} must not be after ${toName}`, fromName, { fields: [fromName, toName] });
  }
  return bounds;
}

/** A MikroORM condition for a column within `bounds` (`$gte` from, `$lt` to); null when both ends are open. */
export function boundsCondition(bounds: TimeBounds | null | undefined): { $gte?: Date; $lt?: Date } | null {
  if (!bounds?.from && !bounds?.to) return null;
  return { ...(bounds.from ? { $gte: bounds.from } : {}), ...(bounds.to ? { $lt: bounds.to } : {}) };
}
