import {
  DirectiveLocation,
  GraphQLDirective,
  GraphQLEnumType,
  GraphQLNonNull,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
} from 'graphql';
import { Directive } from 'type-graphql';

/** What a sensitive argument or field holds. */
export enum Sensitivity {
  /** A credential (password, one-time code, token, secret): never logged, audited or exported. */
  SECRET = 'SECRET',
  /** Personal data (an email address, an IP address, a subject's name): never logged; masked in audit entries and in exports without ACCESS_PII. */
  PII = 'PII',
}

const SensitivityType = new GraphQLEnumType({
  name: 'Sensitivity',
  description: 'What a field or argument marked @sensitive holds',
  values: {
    SECRET: { value: Sensitivity.SECRET, description: 'A credential: never logged, audited or exported' },
    PII: { value: Sensitivity.PII, description: 'Personal data: never logged; masked in audit entries and in exports without ACCESS_PII' },
  },
});

/**
 * `@sensitive(kind: SECRET | PII)`: the one mark, next to the field or argument definition, from
 * which the operation log's redaction of variables, the audit trail's masking and the export's
 * masking are all derived.
 */
export const sensitiveDirective = new GraphQLDirective({
  name: 'sensitive',
  description: 'Marks an argument or field that holds a secret or personal data: its values never reach logs, audit entries or exports',
  locations: [DirectiveLocation.ARGUMENT_DEFINITION, DirectiveLocation.INPUT_FIELD_DEFINITION, DirectiveLocation.FIELD_DEFINITION],
  args: { kind: { type: new GraphQLNonNull(SensitivityType), description: 'What the value holds' } },
});

/** Every marked name (argument, input field or output field), with what it holds. */
const markedNames = new Map<string, Sensitivity>();

function remember(name: string, kind: Sensitivity): void {
  // A name marked SECRET somewhere stays SECRET everywhere.
  if (markedNames.get(name) !== Sensitivity.SECRET) markedNames.set(name, kind);
}

/**
 * Marks a field (type-graphql `@Field`, `@FieldResolver`, an input field) or an argument as
 * holding a secret or personal data. On an argument, give its name:
 * `@Sensitive(Sensitivity.SECRET, 'password') @Arg('password') password: string`.
 */
export function Sensitive(kind: Sensitivity, argumentName?: string): PropertyDecorator & MethodDecorator & ParameterDecorator {
  const directive = Directive(`@sensitive(kind: ${kind})`) as PropertyDecorator & MethodDecorator & ParameterDecorator;
  return (target: object, propertyKey: string | symbol | undefined, indexOrDescriptor?: number | PropertyDescriptor) => {
    if (typeof indexOrDescriptor === 'number') {
      if (!argumentName) throw new TypeError('@Sensitive on an argument needs the argument name');
      remember(argumentName, kind);
      directive(target, propertyKey, indexOrDescriptor);
      return;
    }
    if (typeof propertyKey !== 'string') throw new TypeError('@Sensitive needs a named property');
    remember(propertyKey, kind);
    if (indexOrDescriptor) directive(target, propertyKey, indexOrDescriptor);
    else directive(target, propertyKey);
  };
}

/**
 * What a name holds when some argument or field of that name is marked; null otherwise. The marks
 * are registered as the resolver and type modules load (the server's schema and the CLI load them
 * all before any request).
 */
export function sensitivityOfName(name: string): Sensitivity | null {
  return markedNames.get(name) ?? null;
}

/** Every marked name, with what it holds. */
export function markedFieldNames(): ReadonlyMap<string, Sensitivity> {
  return markedNames;
}

/** What a schema element's `@sensitive` mark says; null when unmarked. */
export function sensitivityOf(element: GraphQLArgument | GraphQLInputField | GraphQLField<unknown, unknown>): Sensitivity | null {
  const directive = element.astNode?.directives?.find((d) => d.name.value === 'sensitive');
  if (!directive) return null;
  const kind = directive.arguments?.find((a) => a.name.value === 'kind')?.value;
  return kind?.kind === 'EnumValue' && (kind.value === Sensitivity.SECRET || kind.value === Sensitivity.PII) ? kind.value : Sensitivity.SECRET;
}
