/**
 * Handles: what an agent posts to another so that both use the same primitive.
 *
 * @module
 */

import { describe } from '../core/options.js';

/** Which primitive a handle belongs to. */
export type SharedKind = 'SharedLock' | 'SharedSemaphore' | 'SharedCondition';

/**
 * A structured-cloneable description of a shared primitive: post it to a worker (`worker.postMessage(lock.handle)`,
 * or in `workerData`) and rebuild the primitive there with the class's `from`. It carries its kind, so a handle of
 * one kind is refused by another kind's `from`.
 */
export interface SharedHandle {
  readonly kind: SharedKind;
  readonly buffer: SharedArrayBuffer;
  readonly name: string | undefined;
}

/** Returns `handle` when it is a handle of `kind` with a buffer of `words` words; else a TypeError naming it. */
export function checkHandle(handle: unknown, kind: SharedKind, words: number): SharedHandle {
  const candidate = handle as Partial<SharedHandle> | null;
  if (typeof candidate !== 'object' || candidate === null || candidate.kind !== kind) {
    const got =
      typeof candidate === 'object' && candidate !== null && typeof candidate.kind === 'string'
        ? `a ${candidate.kind} handle`
        : describe(handle);
    throw new TypeError(`${kind}.from: handle must be the handle of a ${kind}, got ${got}`);
  }
  if (
    typeof SharedArrayBuffer !== 'function' ||
    !(candidate.buffer instanceof SharedArrayBuffer) ||
    candidate.buffer.byteLength !== words * 4
  ) {
    throw new TypeError(`${kind}.from: handle.buffer is not the SharedArrayBuffer of a ${kind}`);
  }
  if (candidate.name !== undefined && typeof candidate.name !== 'string') {
    throw new TypeError(`${kind}.from: handle.name must be a string, got ${describe(candidate.name)}`);
  }
  return candidate as SharedHandle;
}
