/**
 * Footprints: what a step touched, as the reduction compares them. Two steps commute (are independent) when neither
 * writes what the other reads or writes; a step that declared nothing touched everything.
 *
 * Keys are strings, so that footprints recorded in one run compare with those of another run (whose objects are new):
 * a name of the scenario's own is `s:name`, a primitive is `p:` + its label (two unnamed locks share one key, which
 * only makes the reduction do less, never skip a schedule), any other object is the one key `o:`.
 *
 * @module
 */

import type { Access, Declaration, Touch } from './types.js';

/** What one step touched. `all` means "everything": dependent on every other step. */
export interface Footprint {
  all: boolean;
  readonly reads: Set<string>;
  readonly writes: Set<string>;
}

/** A footprint that touches everything. */
export function everything(): Footprint {
  return { all: true, reads: new Set(), writes: new Set() };
}

/** A footprint that touches nothing yet. */
export function nothing(): Footprint {
  return { all: false, reads: new Set(), writes: new Set() };
}

/** The key of a shared thing. */
export function keyOf(touch: Touch): string {
  if (typeof touch === 'string') return `s:${touch}`;
  const label = (touch as { label?: unknown }).label;
  return typeof label === 'string' ? `p:${label}` : 'o:';
}

function isAccess(value: object): value is Access {
  return (
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype &&
    ('reads' in value || 'writes' in value)
  );
}

function checkTouches(value: unknown, name: string): readonly Touch[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of names or objects`);
  for (const touch of value as unknown[]) {
    if (typeof touch !== 'string' && (typeof touch !== 'object' || touch === null)) {
      throw new TypeError(`${name} must hold names (strings) or objects, got ${String(touch)}`);
    }
  }
  return value as readonly Touch[];
}

/**
 * The footprint a {@link Declaration} promises, or `undefined` when there is none (the step touches everything).
 *
 * @throws TypeError naming `name` when it is not a declaration.
 */
export function declared(declaration: Declaration | undefined, name: string): Footprint | undefined {
  if (declaration === undefined) return undefined;
  const footprint = nothing();
  if (typeof declaration === 'string') {
    footprint.writes.add(keyOf(declaration));
  } else if (typeof declaration === 'object' && declaration !== null) {
    if (Array.isArray(declaration)) {
      for (const touch of checkTouches(declaration, name)) footprint.writes.add(keyOf(touch));
    } else if (isAccess(declaration)) {
      for (const touch of checkTouches(declaration.reads, `${name}.reads`)) footprint.reads.add(keyOf(touch));
      for (const touch of checkTouches(declaration.writes, `${name}.writes`))
        footprint.writes.add(keyOf(touch));
    } else {
      footprint.writes.add(keyOf(declaration));
    }
  } else {
    throw new TypeError(`${name} must be a name, an object, a list of them or { reads, writes }`);
  }
  return footprint;
}

/** Whether two steps commute: neither touched everything, and neither writes what the other touches. */
export function independent(a: Footprint, b: Footprint): boolean {
  if (a.all || b.all) return false;
  for (const key of a.writes) if (b.writes.has(key) || b.reads.has(key)) return false;
  for (const key of b.writes) if (a.reads.has(key)) return false;
  return true;
}
