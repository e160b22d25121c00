/**
 * One resolved promise, for calls that complete at once with nothing to return (a `put` with room): it carries no
 * state, so sharing it is safe. Made by the first such call, so that loading a module runs nothing.
 *
 * @module
 */

let shared: Promise<void> | undefined;

/** The shared resolved `Promise<void>`. */
export function resolvedVoid(): Promise<void> {
  return (shared ??= Promise.resolve());
}
