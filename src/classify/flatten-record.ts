import type { Scalar } from '../detectors/detector.js';

/** Bounds of one record's walk (DESIGN.md invariant 4: everything read from a target is hostile). */
export interface FlattenLimits {
  /** Nesting levels walked; deeper values are dropped and the record marked truncated. */
  maxDepth: number;
  /** Scalars taken from one record; the rest are dropped. */
  maxValues: number;
  /** Items walked per array. */
  maxArrayItems: number;
  /** Longer strings are neither detected nor parsed as JSON, only counted. */
  maxStringLength: number;
  /** Distinct keys under one object path; further keys share the path `…*` (key families). */
  maxChildren: number;
  /** Distinct paths per tree (collection); values of further paths are dropped. */
  maxNodes: number;
}

export const defaultFlattenLimits: FlattenLimits = {
  maxDepth: 64,
  maxValues: 10_000,
  maxArrayItems: 1_000,
  maxStringLength: 1 << 20,
  maxChildren: 1_000,
  maxNodes: 20_000,
};

/**
 * One field path of a collection, a node of the path tree. Walking a record looks keys up in
 * `children` instead of concatenating path strings, so a value costs a Map lookup per key and no
 * allocation; the node's `field` (its context and counters) is made once, when the path first
 * appears.
 */
export class FieldNode<T> {
  children: Map<string, FieldNode<T>> | undefined;
  /**
   * The child met at each position of the last object walked here. Records of one collection
   * mostly list the same keys in the same order, so comparing one (usually identical, interned)
   * key string replaces a Map lookup.
   */
  readonly byPosition: (FieldNode<T> | undefined)[] = [];
  items: FieldNode<T> | undefined;
  private fieldValue: T | undefined;

  constructor(
    /** The key this node is under in its parent (`*` for folded keys, `[]` for array items). */
    readonly key: string,
    /** DESIGN.md field path: `cams[].mac`, `payload.user.email`. */
    readonly path: string,
    /** Keys from the record's top (array steps not counted). */
    readonly depth: number,
    /** Whether an array step is on the path (`shares[].email`). */
    readonly inArray: boolean,
    private readonly tree: FieldTree<T>,
  ) {}

  /** Whether `field` was ever made (the node held a value), without making it. */
  get hasField(): boolean {
    return this.fieldValue !== undefined;
  }

  get field(): T {
    if (this.fieldValue === undefined) this.fieldValue = this.tree.makeField(this);
    return this.fieldValue;
  }
}

/** The paths of one collection, built as records arrive. */
export class FieldTree<T> {
  readonly root: FieldNode<T>;
  nodes = 1;

  constructor(
    /** Path of a record that is itself a scalar (a Redis string value): the collection's name. */
    rootPath: string,
    readonly makeField: (node: FieldNode<T>) => T,
    readonly limits: FlattenLimits = defaultFlattenLimits,
  ) {
    this.root = new FieldNode<T>('', rootPath, 0, false, this);
  }

  child(parent: FieldNode<T>, key: string): FieldNode<T> | undefined {
    let children = parent.children;
    if (children === undefined) {
      children = new Map();
      parent.children = children;
    } else {
      const found = children.get(key);
      if (found !== undefined) return found;
    }
    let name = key;
    if (children.size >= this.limits.maxChildren) {
      // Keys used as ids (`{"u123": {...}, "u456": {...}}`) would make a path per record.
      name = '*';
      const star = children.get(name);
      if (star !== undefined) return star;
    }
    if (this.nodes >= this.limits.maxNodes) return undefined;
    this.nodes++;
    const path = parent === this.root ? name : `${parent.path}.${name}`;
    const node = new FieldNode<T>(key, path, parent.depth + 1, parent.inArray, this);
    children.set(name, node);
    return node;
  }

  itemsOf(parent: FieldNode<T>): FieldNode<T> | undefined {
    if (parent.items !== undefined) return parent.items;
    if (this.nodes >= this.limits.maxNodes) return undefined;
    this.nodes++;
    const path = parent === this.root ? '[]' : `${parent.path}[]`;
    parent.items = new FieldNode<T>('[]', path, parent.depth, true, this);
    return parent.items;
  }
}

/**
 * The scalars of one record with their nodes, in reusable arrays (reset per record, never
 * shrunk), so the hot loop allocates nothing per value.
 */
export class FlatValues<T> {
  readonly nodes: FieldNode<T>[] = [];
  readonly values: Scalar[] = [];
  length = 0;
  /** Something of the record was dropped (depth, value count, array length, path count). */
  truncated = false;
  /** Strings over `maxStringLength`, neither detected nor parsed. */
  oversized = 0;
  /** Binary values (buffers) skipped. */
  binary = 0;

  reset(): void {
    // Drop references to the previous record's values so they can be collected.
    for (let i = 0; i < this.length; i++) this.values[i] = 0;
    this.length = 0;
    this.truncated = false;
    this.oversized = 0;
    this.binary = 0;
  }

  push(node: FieldNode<T>, value: Scalar, max: number): void {
    const i = this.length;
    if (i >= max) {
      this.truncated = true;
      return;
    }
    this.nodes[i] = node;
    this.values[i] = value;
    this.length = i + 1;
  }
}

/** Positions remembered per object path (wider objects fall back to the Map). */
const maxPositions = 256;

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** A string that holds a JSON object or array (DESIGN.md: its paths continue), else undefined. */
function parseEmbeddedJson(text: string): object | undefined {
  let start = 0;
  let end = text.length - 1;
  while (start <= end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end))) end--;
  const first = text.charCodeAt(start);
  const last = text.charCodeAt(end);
  // Checking both ends first keeps exceptions (slow) for strings that almost are JSON.
  if (!((first === 123 && last === 125) || (first === 91 && last === 93))) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function walk<T>(
  tree: FieldTree<T>,
  node: FieldNode<T>,
  value: unknown,
  depth: number,
  out: FlatValues<T>,
): void {
  const limits = tree.limits;
  switch (typeof value) {
    case 'string': {
      if (value.length === 0) return;
      if (value.length > limits.maxStringLength) {
        out.oversized++;
        return;
      }
      const first = value.charCodeAt(0);
      if (first === 123 || first === 91 || isSpace(first)) {
        const parsed = parseEmbeddedJson(value);
        if (parsed !== undefined) {
          walk(tree, node, parsed, depth, out);
          return;
        }
      }
      out.push(node, value, limits.maxValues);
      return;
    }
    case 'number':
    case 'boolean':
      out.push(node, value, limits.maxValues);
      return;
    case 'bigint':
      out.push(node, value.toString(), limits.maxValues);
      return;
    case 'object': {
      if (value === null) return;
      if (depth >= limits.maxDepth) {
        out.truncated = true;
        return;
      }
      if (Array.isArray(value)) {
        const items = tree.itemsOf(node);
        if (items === undefined) {
          out.truncated = true;
          return;
        }
        let n = value.length;
        if (n > limits.maxArrayItems) {
          n = limits.maxArrayItems;
          out.truncated = true;
        }
        for (let i = 0; i < n; i++) {
          if (out.length >= limits.maxValues) {
            out.truncated = true;
            return;
          }
          walk(tree, items, value[i], depth + 1, out);
        }
        return;
      }
      // Drivers hand over dates and binary columns as objects.
      if (value instanceof Date) {
        if (!Number.isNaN(value.getTime())) out.push(node, value.toISOString(), limits.maxValues);
        return;
      }
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
        out.binary++;
        return;
      }
      const object = value as Record<string, unknown>;
      const byPosition = node.byPosition;
      let position = 0;
      for (const key in object) {
        if (out.length >= limits.maxValues) {
          out.truncated = true;
          return;
        }
        let child = byPosition[position];
        if (child?.key !== key) {
          child = tree.child(node, key);
          if (child === undefined) {
            out.truncated = true;
            continue;
          }
          if (position < maxPositions) byPosition[position] = child;
        }
        position++;
        walk(tree, child, object[key], depth + 1, out);
      }
      return;
    }
    case 'undefined':
    case 'function':
    case 'symbol':
      return;
  }
}

/**
 * Appends the (path, scalar) pairs of `record` to `out` (after `out.reset()` by the caller): keys
 * joined with `.`, array steps as `[]`, JSON inside strings parsed and continued. Recursion is
 * bounded by `maxDepth` (a 10,000-level document stops at level 64 instead of overflowing the
 * stack), values by `maxValues`, arrays by `maxArrayItems`.
 */
export function flattenRecord<T>(tree: FieldTree<T>, record: unknown, out: FlatValues<T>): void {
  walk(tree, tree.root, record, 0, out);
}
