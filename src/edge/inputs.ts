import { Kind, type ArgumentNode, type DocumentNode, type ValueNode } from 'graphql';
import { BadUserInputError } from '../errors';

/** Bounds of an operation's variables, checked before anything walks them recursively. */
export interface VariableLimits {
  /** Deepest nesting of objects and lists inside the variables. */
  maxDepth: number;
  /** Approximate size (characters of strings and keys, 8 per other value). */
  maxBytes: number;
}

const NUL = '\u0000';

/**
 * Checks the variables of a request without recursion (JSON nested thousands of levels deep must
 * not overflow the stack of whatever reads it next): an object or absent, at most
 * `limits.maxDepth` levels deep, at most `limits.maxBytes` large. Returns BAD_USER_INPUT naming
 * the variable at fault, or null.
 */
export function checkVariableBounds(variables: unknown, limits: VariableLimits): BadUserInputError | null {
  if (variables === undefined || variables === null) return null;
  if (typeof variables !== 'object' || Array.isArray(variables)) return null; // the transport answers BAD_REQUEST
  let bytes = 0;
  const stack: { value: unknown; depth: number; name: string }[] = [];
  for (const [name, value] of Object.entries(variables)) {
    bytes += name.length;
    stack.push({ value, depth: 0, name });
  }
  while (stack.length) {
    const { value, depth, name } = stack.pop()!;
    if (typeof value === 'string') bytes += value.length;
    else if (value !== null && typeof value === 'object') {
      if (depth + 1 > limits.maxDepth) {
        return new BadUserInputError(`Variable "$${name}" is nested deeper than ${limits.maxDepth} levels`, name, { limit: limits.maxDepth });
      }
      if (Array.isArray(value)) {
        bytes += 2;
        for (const item of value) stack.push({ value: item, depth: depth + 1, name });
      } else {
        for (const [key, item] of Object.entries(value)) {
          bytes += key.length + 2;
          stack.push({ value: item, depth: depth + 1, name });
        }
      }
    } else bytes += 8;
    if (bytes > limits.maxBytes) {
      return new BadUserInputError(`The variables are larger than ${limits.maxBytes} bytes`, name, { limit: limits.maxBytes });
    }
  }
  return null;
}

/** `a` followed by the path `b` inside it (`input` + `tags[1]` → `input.tags[1]`, + `[1]` → `input[1]`). */
function concat(a: string, b: string): string {
  if (!b) return a;
  return b.startsWith('[') ? `${a}${b}` : `${a}.${b}`;
}

function nulError(argument: string, path: string, variable?: string): BadUserInputError {
  const field = concat(argument, path);
  return new BadUserInputError(
    `Argument "${field}" must not contain the character U+0000`,
    field,
    variable ? { variable } : {},
  );
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** The path of the first string holding U+0000 in a literal value ('' for the value itself), or null. */
function nulInLiteral(value: ValueNode, path: string): string | null {
  switch (value.kind) {
    case Kind.STRING:
      return value.value.includes(NUL) ? path : null;
    case Kind.LIST:
      for (let i = 0; i < value.values.length; i++) {
        const found = nulInLiteral(value.values[i]!, join(path, i));
        if (found !== null) return found;
      }
      return null;
    case Kind.OBJECT:
      for (const field of value.fields) {
        const found = nulInLiteral(field.value, join(path, field.name.value));
        if (found !== null) return found;
      }
      return null;
    default:
      return null;
  }
}

/** The path of the first string (or object key) holding U+0000 in a variable's value, or null; iterative. */
function nulInValue(root: unknown): string | null {
  const stack: { value: unknown; path: string }[] = [{ value: root, path: '' }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes(NUL)) return path;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: join(path, i) });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes(NUL)) return join(path, key);
        stack.push({ value: item, path: join(path, key) });
      }
    }
  }
  return null;
}

/**
 * Refuses U+0000 in any string input (PostgreSQL cannot store it, and no text a person types
 * holds it): in literal arguments and variable defaults anywhere in the document, and in the
 * variables' values, inside input objects and lists. The error is BAD_USER_INPUT naming the
 * argument (and the path inside it; `extensions.variable` when it came through a variable).
 * Linear in the document and the variables.
 */
export function checkNulInputs(document: DocumentNode, variables: Readonly<Record<string, unknown>> | null | undefined): BadUserInputError | null {
  /** Where each variable is used first: the argument's name, for naming it in the error. */
  const usedBy = new Map<string, string>();
  const argumentsOf = (args: readonly ArgumentNode[] | undefined): BadUserInputError | null => {
    for (const arg of args ?? []) {
      if (arg.value.kind === Kind.VARIABLE) {
        if (!usedBy.has(arg.value.name.value)) usedBy.set(arg.value.name.value, arg.name.value);
        continue;
      }
      const found = nulInLiteral(arg.value, '');
      if (found !== null) return nulError(arg.name.value, found);
      collectVariables(arg.value, arg.name.value);
    }
    return null;
  };
  /** Remembers where variables sit inside a literal (`input: { tags: $t }` → `input.tags`). */
  const collectVariables = (value: ValueNode, path: string): void => {
    if (value.kind === Kind.VARIABLE) {
      if (!usedBy.has(value.name.value)) usedBy.set(value.name.value, path);
    } else if (value.kind === Kind.LIST) value.values.forEach((item, i) => collectVariables(item, join(path, i)));
    else if (value.kind === Kind.OBJECT) for (const field of value.fields) collectVariables(field.value, join(path, field.name.value));
  };
  // An explicit stack over selection sets: the document's nesting is bounded by its token limit,
  // but nothing here needs the call stack.
  type Node = { directives?: readonly { arguments?: readonly ArgumentNode[] }[]; arguments?: readonly ArgumentNode[]; selectionSet?: { selections: readonly Node[] } };
  const stack: Node[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      for (const v of definition.variableDefinitions ?? []) {
        const found = v.defaultValue ? nulInLiteral(v.defaultValue, '') : null;
        if (found !== null) return nulError(v.variable.name.value, found, v.variable.name.value);
      }
    }
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) stack.push(definition as Node);
  }
  while (stack.length) {
    const node = stack.pop()!;
    const refused = argumentsOf(node.arguments) ?? node.directives?.reduce<BadUserInputError | null>((r, d) => r ?? argumentsOf(d.arguments), null) ?? null;
    if (refused) return refused;
    for (const child of node.selectionSet?.selections ?? []) stack.push(child);
  }
  for (const [name, value] of Object.entries(variables ?? {})) {
    const found = nulInValue(value);
    if (found !== null) return nulError(usedBy.get(name) ?? name, found, name);
  }
  return null;
}
