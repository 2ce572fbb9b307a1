import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

type SelectionInfo = Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>;

/** Per first field node, per path: the selected names (documents are cached, so are their nodes). */
const cache = new WeakMap<FieldNode, Map<string, ReadonlySet<string>>>();

function collect(selectionSet: SelectionSetNode | undefined, info: SelectionInfo, path: readonly string[], out: Set<string>): void {
  if (!selectionSet) return;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (path.length === 0) out.add(selection.name.value);
      else if (selection.name.value === path[0]) collect(selection.selectionSet, info, path.slice(1), out);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collect(selection.selectionSet, info, path, out);
    } else {
      collect(info.fragments[selection.name.value]?.selectionSet, info, path, out);
    }
  }
}

/**
 * The names of the fields selected below the field being resolved, at `path` (`selectedFields(info,
 * 'edges', 'node')` for a connection's nodes), merged over every field node, fragment and inline
 * fragment. Type conditions and `@skip`/`@include` are not evaluated: the answer is a superset,
 * meant for deciding what to load (loading a column nobody shows is harmless; missing one is not).
 * Cached per field node, so a field resolved for many parents computes it once per document.
 */
export function selectedFields(info: SelectionInfo, ...path: string[]): ReadonlySet<string> {
  const first = info.fieldNodes[0];
  if (!first) return new Set();
  let byPath = cache.get(first);
  if (!byPath) {
    byPath = new Map();
    cache.set(first, byPath);
  }
  const key = path.join('.');
  let names = byPath.get(key);
  if (!names) {
    const out = new Set<string>();
    for (const node of info.fieldNodes) collect(node.selectionSet, info, path, out);
    names = out;
    byPath.set(key, names);
  }
  return names;
}

function collectFields(selectionSet: SelectionSetNode | undefined, info: SelectionInfo, path: readonly string[], name: string, out: FieldNode[]): void {
  if (!selectionSet) return;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (path.length === 0) {
        if (selection.name.value === name) out.push(selection);
      } else if (selection.name.value === path[0]) collectFields(selection.selectionSet, info, path.slice(1), name, out);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collectFields(selection.selectionSet, info, path, name, out);
    } else {
      collectFields(info.fragments[selection.name.value]?.selectionSet, info, path, name, out);
    }
  }
}

/**
 * The nodes of the fields named `name` selected below the field being resolved, at `path`, under
 * any alias (with the same caveats as {@link selectedFields}).
 */
export function selectedFieldNodes(info: SelectionInfo, name: string, ...path: string[]): FieldNode[] {
  const out: FieldNode[] = [];
  for (const node of info.fieldNodes) collectFields(node.selectionSet, info, path, name, out);
  return out;
}
