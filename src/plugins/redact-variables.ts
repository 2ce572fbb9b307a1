import {
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { sensitivityOf } from '../schema/sensitive';

/** What a redacted value is logged as. */
export const REDACTED = '[redacted]';

/** Variables that bind, directly or inside an input-object literal, to a marked argument or input field. */
const sensitiveVariablesCache = new WeakMap<DocumentNode, Set<string>>();

function sensitiveVariables(schema: GraphQLSchema, document: DocumentNode): Set<string> {
  const cached = sensitiveVariablesCache.get(document);
  if (cached) return cached;
  const names = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  // One flag per argument / object field being visited: whether it, or one it sits in, is marked.
  const marked: boolean[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument: {
        enter() {
          const argument = typeInfo.getArgument();
          marked.push((argument ? sensitivityOf(argument) !== null : false) || marked.at(-1) === true);
        },
        leave() {
          marked.pop();
        },
      },
      ObjectField: {
        enter(node) {
          const parent = typeInfo.getParentInputType();
          const objectType = parent ? getNamedType(parent) : null;
          const field = objectType && isInputObjectType(objectType) ? objectType.getFields()[node.name.value] : undefined;
          marked.push((field ? sensitivityOf(field) !== null : false) || marked.at(-1) === true);
        },
        leave() {
          marked.pop();
        },
      },
      Variable(node) {
        if (marked.at(-1)) names.add(node.name.value);
      },
    }),
  );
  sensitiveVariablesCache.set(document, names);
  return names;
}

/** A copy of `value` (of input type `type`) with the values of marked input fields replaced, at any depth. */
function redactByType(value: unknown, type: GraphQLInputType | undefined, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (!type || depth > 32) return REDACTED;
  if (isNonNullType(type)) return redactByType(value, type.ofType, depth);
  if (isListType(type)) return Array.isArray(value) ? value.map((item) => redactByType(item, type.ofType, depth + 1)) : redactByType(value, type.ofType, depth + 1);
  if (isInputObjectType(type)) {
    if (typeof value !== 'object' || Array.isArray(value)) return REDACTED;
    const fields = type.getFields();
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => {
        const field = fields[key];
        // A key the type does not have was refused by validation; its value is not logged either.
        if (!field || sensitivityOf(field) !== null) return [key, REDACTED];
        return [key, redactByType(item, field.type, depth + 1)];
      }),
    );
  }
  // Scalars and enums: a JSON scalar may hold anything, so only its shape's absence is logged.
  return getNamedType(type).name === 'JSON' ? REDACTED : value;
}

/**
 * The variables of an operation as they may be logged: every variable bound — directly, or inside
 * an input-object literal — to an argument or input field marked `@sensitive` is replaced, and so
 * is every marked field inside a variable of an input-object type, at any depth and whatever the
 * variables are called. Without a document (it did not parse) nothing is known about them, and
 * every value is replaced.
 */
export function redactVariables(schema: GraphQLSchema, document: DocumentNode | undefined, variables: Record<string, unknown>): Record<string, unknown> {
  if (!document) return Object.fromEntries(Object.keys(variables).map((name) => [name, REDACTED]));
  const sensitive = sensitiveVariables(schema, document);
  const definitions = new Map<string, GraphQLInputType | undefined>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const variable of definition.variableDefinitions ?? []) {
      definitions.set(variable.variable.name.value, typeFromAST(schema, variable.type as Parameters<typeof typeFromAST>[1]) as GraphQLInputType | undefined);
    }
  }
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => {
      if (sensitive.has(name) || !definitions.has(name)) return [name, REDACTED];
      return [name, redactByType(value, definitions.get(name))];
    }),
  );
}
