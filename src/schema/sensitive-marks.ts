// Loads every resolver, input and entity class, so that every `@Sensitive` mark is registered
// before a name is looked up, whichever composition (server, CLI, a script) asks.
import '../resolvers';

export { markedFieldNames, sensitivityOfName, Sensitivity } from './sensitive';
