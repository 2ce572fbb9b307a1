/**
 * Read-only rows for hot read paths. Hydrating through the ORM (`em.map`, `em.find`) registers
 * every row in the identity map, snapshots it for change tracking and runs its hydrator: on a page
 * of 20 investigations with 10 findings each that was the largest share of a request's CPU time
 * (bench/README.md, "Where the time goes"). Rows read here are never flushed, so they are built as
 * detached instances of the entity class instead: same prototype (type-graphql resolves fields on
 * them as on entities), plain properties, nothing kept by the EntityManager.
 */

/**
 * Per entity class, an object between the class prototype and detached instances: MikroORM puts
 * accessors for entity properties on the prototype, and assigning through them runs its change
 * tracking. Writable data properties of the same names here shadow them, so assignment creates
 * plain own properties (V8 keeps such objects on a fast shape).
 */
const shadows = new WeakMap<object, { proto: object; names: Set<string> }>();

function shadowOf(cls: { prototype: unknown }, names: string[]): object {
  let shadow = shadows.get(cls);
  if (!shadow) {
    shadow = { proto: Object.create(cls.prototype as object) as object, names: new Set() };
    shadows.set(cls, shadow);
  }
  for (const name of names) {
    if (shadow.names.has(name)) continue;
    Object.defineProperty(shadow.proto, name, { value: undefined, writable: true, configurable: true, enumerable: false });
    shadow.names.add(name);
  }
  return shadow.proto;
}

/** An instance of `cls` with exactly `fields`, without running its constructor or touching the ORM. */
export function detached<T extends object>(cls: abstract new (...args: never[]) => T, fields: Partial<T>): T {
  return Object.assign(Object.create(shadowOf(cls, Object.keys(fields))) as T, fields);
}

/**
 * A `timestamptz` as the driver returns it (`2026-09-03 13:47:49.083+00`, text) or a Date, as a
 * Date; null stays null.
 */
export function pgTime(value: unknown): Date;
export function pgTime(value: unknown, nullable: true): Date | null;
export function pgTime(value: unknown, _nullable?: true): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value).replace(' ', 'T');
  // PostgreSQL writes the offset as `+00` or `+05:30`; ECMAScript date strings need `+00:00`.
  return new Date(/[+-]\d\d$/.test(text) ? `${text}:00` : text);
}
