import {
  isIntrospectionType,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  Kind,
  Lexer,
  Source,
  TokenKind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { QueryTooComplexError } from '../errors';

/** The shape and cost limits an operation is measured against (see `EdgeLimits`). */
export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
  /** What a list field without `first`/`last` counts as. */
  defaultPageSize: number;
}

/** What an operation would cost, measured before any resolver runs. */
export interface OperationFigures {
  depth: number;
  aliases: number;
  rootFields: number;
  directives: number;
  cost: number;
  /** True when it selects `__schema` or `__type` anywhere. */
  introspection: boolean;
}

/** A measurement: the figures, and the first limit they broke (the figures are then lower bounds). */
export interface Measurement {
  figures: OperationFigures;
  exceeded: QueryTooComplexError | null;
}

interface Figures {
  depth: number;
  aliases: number;
  directives: number;
  /** Fields at this selection set's own level, through inline fragments and spreads. */
  fields: number;
  cost: number;
  introspection: boolean;
}

type Figure = 'depth' | 'aliases' | 'rootFields' | 'directives' | 'cost';

/** Thrown inside a walk when a figure passes its limit: the walk stops there. */
class Exceeded {
  constructor(
    readonly figure: Figure,
    readonly value: number,
    readonly limit: number,
  ) {}
}

const EMPTY: Figures = { depth: 0, aliases: 0, directives: 0, fields: 0, cost: 0, introspection: false };
/** Multipliers are capped so that `Infinity × 0` can never make a cost NaN. */
const MAX_MULTIPLIER = Number.MAX_SAFE_INTEGER;

const MESSAGES: Record<Figure, (value: number, limit: number) => string> = {
  depth: (v, l) => `The operation is nested at least ${v} levels deep; the limit is ${l}`,
  aliases: (v, l) => `The operation uses at least ${v} aliases; the limit is ${l}`,
  rootFields: (v, l) => `The operation selects at least ${v} root fields; the limit is ${l}`,
  directives: (v, l) => `The operation uses at least ${v} directives; the limit is ${l}`,
  cost: (v, l) => `The operation would cost at least ${v}; the limit is ${l}`,
};

/**
 * Counts the lexical tokens of a document, stopping at `max + 1` so a huge document costs no
 * more than the limit. A lexing error ends the count (the parser reports it properly).
 */
export function countTokens(source: string, max: number): number {
  const lexer = new Lexer(new Source(source));
  let count = 0;
  try {
    while (count <= max && lexer.advance().kind !== TokenKind.EOF) count += 1;
  } catch {
    return count;
  }
  return count;
}

/** The token limit as a QUERY_TOO_COMPLEX error, or null within it. */
export function checkTokens(source: string, maxTokens: number): QueryTooComplexError | null {
  const tokens = countTokens(source, maxTokens);
  if (tokens <= maxTokens) return null;
  return new QueryTooComplexError(`The document has more than ${maxTokens} tokens`, { tokens, limit: maxTokens });
}

function numberOf(value: ValueNode | undefined, variables: Readonly<Record<string, unknown>>): number | undefined {
  if (!value) return undefined;
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }
  return undefined;
}

function lengthOf(value: ValueNode | undefined, variables: Readonly<Record<string, unknown>>): number | undefined {
  if (!value) return undefined;
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return Array.isArray(v) ? v.length : undefined;
  }
  return undefined;
}

/**
 * How many times a field's selection is resolved: `first`/`last` (the larger; the default page
 * size when neither is given) on a paged field; the length of a list argument (`nodes(ids:)`) on
 * another list field; the default page size for any other list of objects, except the
 * `edges`/`nodes` of a connection, already counted at the connection. Never below 1: `first: 0`
 * must not hide the cost of what the field selects from the analysis.
 */
function multiplierOf(
  field: FieldNode,
  def: GraphQLField<unknown, unknown> | undefined,
  parent: GraphQLCompositeType | undefined,
  variables: Readonly<Record<string, unknown>>,
  defaultPageSize: number,
): number {
  if (!def) return 1;
  const argument = (name: string) => field.arguments?.find((a) => a.name.value === name)?.value;
  let multiplier = 1;
  if (def.args.some((a) => a.name === 'first' || a.name === 'last')) {
    const first = numberOf(argument('first'), variables);
    const last = numberOf(argument('last'), variables);
    multiplier = first === undefined && last === undefined ? defaultPageSize : Math.max(first ?? 0, last ?? 0);
  } else {
    const named = getNamedType(def.type);
    if (isListType(getNullableType(def.type)) && isCompositeType(named)) {
      const listArgument = def.args.find((a) => isListType(getNullableType(a.type)));
      const length = listArgument ? lengthOf(argument(listArgument.name), variables) : undefined;
      const insideConnection = isObjectType(parent) && parent.name.endsWith('Connection');
      multiplier = length ?? (insideConnection ? 1 : defaultPageSize);
    }
  }
  return Math.min(Math.max(1, multiplier), MAX_MULTIPLIER);
}

/**
 * Measures an operation (validated or not: fields the schema does not know count as plain fields,
 * fragment cycles end the walk) against `limits`: depth, aliases, root fields, directives and, when
 * `variables` are given (the operation's coerced variables, defaults included), cost.
 *
 * The work is linear in the document, however fragments are nested: each fragment is measured
 * once and its figures reused at every spread (a chain where each fragment spreads the previous
 * one twice has exponentially many paths, each walked never), and the walk stops at the first
 * figure that passes its limit, which is then reported as a lower bound ("at least").
 *
 * Cost: each field costs 1 and multiplies what it selects (see `multiplierOf`); `__typename`
 * costs nothing. `__schema`/`__type` subtrees count for aliases and directives but not for depth
 * or cost (introspection has its own policy).
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  limits: OperationLimits,
  variables?: Readonly<Record<string, unknown>>,
): Measurement {
  return createMeasurer(schema, document, limits, variables)(operation);
}

/**
 * The shape of every operation of a document (validation reads them all, whichever one runs),
 * fragments measured once for all of them; the first limit broken, or null.
 */
export function checkDocumentShape(schema: GraphQLSchema, document: DocumentNode, limits: OperationLimits): QueryTooComplexError | null {
  const measure = createMeasurer(schema, document, limits);
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const { exceeded } = measure(def);
    if (exceeded) return exceeded;
  }
  return null;
}

function createMeasurer(
  schema: GraphQLSchema,
  document: DocumentNode,
  limits: OperationLimits,
  variables?: Readonly<Record<string, unknown>>,
): (operation: OperationDefinitionNode) => Measurement {
  const withCost = variables !== undefined;
  const vars = variables ?? {};
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const measured = new Map<string, Figures>();
  const inProgress = new Set<string>();

  const fieldsCap = limits.maxRootFields + 1;
  const costCap = limits.maxCost + 1;
  const check = (total: Figures) => {
    if (total.aliases > limits.maxAliases) throw new Exceeded('aliases', total.aliases, limits.maxAliases);
    if (total.directives > limits.maxDirectives) throw new Exceeded('directives', total.directives, limits.maxDirectives);
    if (withCost && total.cost > limits.maxCost) throw new Exceeded('cost', total.cost, limits.maxCost);
  };

  const fragment = (name: string): Figures => {
    const known = measured.get(name);
    if (known) return known;
    const def = fragments.get(name);
    if (!def || inProgress.has(name)) return EMPTY;
    inProgress.add(name);
    const type = schema.getType(def.typeCondition.name.value);
    // Measured from its own level (depth 0): the figures hold wherever it is spread. A fragment on an
    // introspection type (`__Type`, GraphiQL's `TypeRef`) is introspection wherever it is spread.
    const inner = walk(def.selectionSet, isCompositeType(type) ? type : undefined, 0, type !== undefined && type !== null && isIntrospectionType(type));
    const figures = { ...inner, directives: inner.directives + (def.directives?.length ?? 0) };
    inProgress.delete(name);
    measured.set(name, figures);
    check(figures);
    return figures;
  };

  const fieldOf = (parent: GraphQLCompositeType | undefined, name: string): GraphQLField<unknown, unknown> | undefined =>
    parent && 'getFields' in parent ? parent.getFields()[name] : undefined;

  /** `level`: how deep the fields of `set` sit (1 at the operation's root, relative inside a fragment). */
  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType | undefined, level: number, introspection: boolean): Figures => {
    const total: Figures = { ...EMPTY };
    for (const selection of set.selections) {
      let f: Figures;
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const own = { aliases: selection.alias ? 1 : 0, directives: selection.directives?.length ?? 0 };
        if (introspection || name === '__schema' || name === '__type') {
          const inner = selection.selectionSet ? walk(selection.selectionSet, undefined, level, true) : EMPTY;
          f = { ...EMPTY, fields: 1, aliases: inner.aliases + own.aliases, directives: inner.directives + own.directives, introspection: true };
        } else if (name === '__typename') {
          f = { ...EMPTY, ...own, fields: 1 };
        } else {
          if (level + 1 > limits.maxDepth) throw new Exceeded('depth', level + 1, limits.maxDepth);
          const def = fieldOf(parent, name);
          const named = def ? getNamedType(def.type) : undefined;
          const child = selection.selectionSet
            ? walk(selection.selectionSet, named && isCompositeType(named) ? named : undefined, level + 1, false)
            : EMPTY;
          const multiplier = withCost ? multiplierOf(selection, def, parent, vars, limits.defaultPageSize) : 1;
          f = {
            depth: child.depth + 1,
            aliases: child.aliases + own.aliases,
            directives: child.directives + own.directives,
            fields: 1,
            cost: withCost ? Math.min(1 + multiplier * child.cost, costCap) : 0,
            introspection: child.introspection,
          };
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        const inner = walk(selection.selectionSet, isCompositeType(type) ? type : undefined, level, introspection);
        f = { ...inner, directives: inner.directives + (selection.directives?.length ?? 0) };
      } else {
        const inner = fragment(selection.name.value);
        if (!introspection && level + inner.depth > limits.maxDepth) throw new Exceeded('depth', level + inner.depth, limits.maxDepth);
        f = { ...inner, directives: inner.directives + (selection.directives?.length ?? 0) };
      }
      total.depth = Math.max(total.depth, f.depth);
      total.aliases += f.aliases;
      total.directives += f.directives;
      // Sums saturate just past their limit: the answer is "at least", and the figures of a
      // doubling chain stay small numbers instead of growing to 2^n.
      total.fields = Math.min(total.fields + f.fields, fieldsCap);
      total.cost = Math.min(total.cost + f.cost, costCap);
      total.introspection ||= f.introspection;
      check(total);
    }
    return total;
  };

  return (operation) => {
    let top: Figures = EMPTY;
    let exceeded: QueryTooComplexError | null = null;
    try {
      const root = schema.getRootType(operation.operation);
      top = walk(operation.selectionSet, root ?? undefined, 0, false);
      top = { ...top, directives: top.directives + (operation.directives?.length ?? 0) };
      check(top);
      if (top.fields > limits.maxRootFields) throw new Exceeded('rootFields', top.fields, limits.maxRootFields);
    } catch (error) {
      if (!(error instanceof Exceeded)) throw error;
      exceeded = new QueryTooComplexError(MESSAGES[error.figure](error.value, error.limit), { [error.figure]: error.value, limit: error.limit });
    }
    return {
      figures: { depth: top.depth, aliases: top.aliases, rootFields: top.fields, directives: top.directives, cost: top.cost, introspection: top.introspection },
      exceeded,
    };
  };
}
