import {
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
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Config } from '../config';
import { QueryTooComplexError } from '../errors';

/** The limits an operation is checked against. */
export type OperationLimits = Config['protection']['limits'];

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

interface Figures {
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
  introspection: boolean;
}

const EMPTY: Figures = { depth: 0, aliases: 0, directives: 0, cost: 0, introspection: false };

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

function intArgument(value: ValueNode | undefined, variables: Record<string, unknown>): number | undefined {
  if (!value) return undefined;
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }
  return undefined;
}

/**
 * Measures an operation (validated or not: fields the schema does not know count as plain
 * fields, fragment cycles end the walk): depth, aliases, root fields, directives and cost. Each field costs 1;
 * a field taking `first` multiplies the cost of what it selects by `first` (or the default page
 * size when absent); any other list of objects multiplies by the default page size, except the
 * `edges`/`nodes` of a connection, which were counted at the connection. `__schema`/`__type`
 * subtrees are not measured (introspection has its own policy). Fragments are measured once and
 * reused, so spreading them many times costs the analysis nothing extra.
 */
export function analyzeOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  defaultPageSize: number,
): OperationFigures {
  const vars = variables ?? {};
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const fragmentFigures = new Map<string, Figures>();
  const inProgress = new Set<string>();

  const fragment = (name: string): Figures => {
    const known = fragmentFigures.get(name);
    if (known) return known;
    const def = fragments.get(name);
    if (!def || inProgress.has(name)) return EMPTY;
    inProgress.add(name);
    const type = schema.getType(def.typeCondition.name.value);
    const figures = selectionSet(def.selectionSet, isCompositeType(type) ? type : undefined);
    const withDirectives = { ...figures, directives: figures.directives + (def.directives?.length ?? 0) };
    inProgress.delete(name);
    fragmentFigures.set(name, withDirectives);
    return withDirectives;
  };

  const fieldOf = (parent: GraphQLCompositeType | undefined, name: string): GraphQLField<unknown, unknown> | undefined =>
    parent && 'getFields' in parent ? parent.getFields()[name] : undefined;

  // `parent` is undefined below a field the schema does not know: the document has not been
  // validated yet, and its shape is still measured.
  const selectionSet = (set: SelectionSetNode, parent: GraphQLCompositeType | undefined): Figures => {
    const total: Figures = { ...EMPTY };
    for (const selection of set.selections) {
      let f: Figures;
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const own = { aliases: selection.alias ? 1 : 0, directives: selection.directives?.length ?? 0 };
        if (name === '__schema' || name === '__type') {
          f = { ...EMPTY, ...own, introspection: true };
        } else if (name === '__typename') {
          f = { ...EMPTY, ...own };
        } else {
          const def = fieldOf(parent, name);
          const named = def ? getNamedType(def.type) : undefined;
          const child = selection.selectionSet
            ? selectionSet(selection.selectionSet, named && isCompositeType(named) ? named : undefined)
            : EMPTY;
          let multiplier = 1;
          if (def?.args.some((a) => a.name === 'first')) {
            const firstArg = selection.arguments?.find((a) => a.name.value === 'first');
            multiplier = intArgument(firstArg?.value, vars) ?? defaultPageSize;
          } else if (def && isListType(getNullableType(def.type)) && named && isCompositeType(named)) {
            const insideConnection = isObjectType(parent) && parent.name.endsWith('Connection');
            multiplier = insideConnection ? 1 : defaultPageSize;
          }
          f = {
            depth: child.depth + 1,
            aliases: child.aliases + own.aliases,
            directives: child.directives + own.directives,
            cost: 1 + Math.max(0, multiplier) * child.cost,
            introspection: child.introspection,
          };
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        const inner = selectionSet(selection.selectionSet, isCompositeType(type) ? type : undefined);
        f = { ...inner, directives: inner.directives + (selection.directives?.length ?? 0) };
      } else {
        const inner = fragment(selection.name.value);
        f = { ...inner, directives: inner.directives + (selection.directives?.length ?? 0) };
      }
      total.depth = Math.max(total.depth, f.depth);
      total.aliases += f.aliases;
      total.directives += f.directives;
      total.cost += f.cost;
      total.introspection ||= f.introspection;
    }
    return total;
  };

  const rootFieldCount = (set: SelectionSetNode, seen: Set<string>): number =>
    set.selections.reduce((n, s) => {
      if (s.kind === Kind.FIELD) return n + 1;
      if (s.kind === Kind.INLINE_FRAGMENT) return n + rootFieldCount(s.selectionSet, seen);
      const def = fragments.get(s.name.value);
      if (!def || seen.has(s.name.value)) return n;
      return n + rootFieldCount(def.selectionSet, new Set([...seen, s.name.value]));
    }, 0);

  const root = schema.getRootType(operation.operation);
  const figures = selectionSet(operation.selectionSet, root ?? undefined);
  return {
    depth: figures.depth,
    aliases: figures.aliases,
    rootFields: rootFieldCount(operation.selectionSet, new Set()),
    directives: figures.directives + (operation.directives?.length ?? 0),
    cost: figures.cost,
    introspection: figures.introspection,
  };
}

/** The first limit the figures break, as a QUERY_TOO_COMPLEX error with the figure and the limit; null within all. */
export function checkOperationLimits(figures: OperationFigures, limits: OperationLimits): QueryTooComplexError | null {
  if (figures.depth > limits.maxDepth) {
    return new QueryTooComplexError(`The operation is nested ${figures.depth} levels deep; the limit is ${limits.maxDepth}`, {
      depth: figures.depth,
      limit: limits.maxDepth,
    });
  }
  if (figures.aliases > limits.maxAliases) {
    return new QueryTooComplexError(`The operation uses ${figures.aliases} aliases; the limit is ${limits.maxAliases}`, {
      aliases: figures.aliases,
      limit: limits.maxAliases,
    });
  }
  if (figures.rootFields > limits.maxRootFields) {
    return new QueryTooComplexError(
      `The operation selects ${figures.rootFields} root fields; the limit is ${limits.maxRootFields}`,
      { rootFields: figures.rootFields, limit: limits.maxRootFields },
    );
  }
  if (figures.directives > limits.maxDirectives) {
    return new QueryTooComplexError(
      `The operation uses ${figures.directives} directives; the limit is ${limits.maxDirectives}`,
      { directives: figures.directives, limit: limits.maxDirectives },
    );
  }
  if (figures.cost > limits.maxCost) {
    return new QueryTooComplexError(`The operation would cost ${figures.cost}; the limit is ${limits.maxCost}`, {
      cost: figures.cost,
      limit: limits.maxCost,
    });
  }
  return null;
}
