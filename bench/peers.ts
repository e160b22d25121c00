/**
 * The peer libraries, imported in one place, and the few adapters the benchmarks need to call them on equal terms.
 * Each benchmark still writes one explicit loop per implementation, so every call site stays monomorphic.
 *
 * Versions are read from their package.json files so the printed tables say what was measured.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { Cancelable, CancelSubscription, type CancelSignal } from '@esfx/cancelable';

export { Mutex as AsyncMutexMutex, Semaphore as AsyncMutexSemaphore, withTimeout } from 'async-mutex';
export { default as AsyncLockLib } from 'async-lock';
export { Sema } from 'async-sema';
export { default as pLimit } from 'p-limit';
export { default as PQueue } from 'p-queue';
export { AsyncMutex as EsfxMutex } from '@esfx/async-mutex';
export { AsyncSemaphore as EsfxSemaphore } from '@esfx/async-semaphore';
export { AsyncQueue as EsfxQueue } from '@esfx/async-queue';
export { AsyncReaderWriterLock as EsfxReaderWriterLock } from '@esfx/async-readerwriterlock';

/** Every peer the benchmarks compare with, by package name. */
export const PEERS = [
  'async-mutex',
  'async-lock',
  'async-sema',
  'await-semaphore',
  'p-limit',
  'p-queue',
  '@esfx/async-mutex',
  '@esfx/async-semaphore',
  '@esfx/async-queue',
  '@esfx/async-readerwriterlock',
] as const;

/** Names of the reference implementations in the tables (not peers: the yardstick). */
export const REFERENCES = new Set(['hand-rolled', 'hand-rolled + guard', 'runtime only']);

const require = createRequire(import.meta.url);

/**
 * await-semaphore's API. It ships its TypeScript source (`index.ts`) and no declarations, and that source does not
 * compile under this project's settings, so it is loaded with `require` and typed here.
 */
export interface AwaitSemaphore {
  acquire(): Promise<() => void>;
  use<T>(thunk: () => Promise<T>): Promise<T>;
}
export type AwaitMutex = AwaitSemaphore;
const awaitSemaphore = require('await-semaphore') as {
  Semaphore: new (count: number) => AwaitSemaphore;
  Mutex: new () => AwaitMutex;
};
export const AwaitSemaphore = awaitSemaphore.Semaphore;
export const AwaitMutex = awaitSemaphore.Mutex;

/** `name@version` of every peer, as installed. */
export function peerVersions(): string[] {
  return PEERS.map((name) => {
    try {
      return `${name}@${(require(`${name}/package.json`) as { version: string }).version}`;
    } catch {
      // p-limit and p-queue export no package.json: read it from node_modules directly.
      const path = require.resolve(name).replace(/(node_modules\/(@[^/]+\/)?[^/]+)\/.*$/, '$1/package.json');
      return `${name}@${(require(path) as { version: string }).version}`;
    }
  });
}

/**
 * An AbortSignal seen as an @esfx `Cancelable` (the @esfx primitives take their own cancellation protocol, not
 * AbortSignal): `subscribe` adds an abort listener and its subscription removes it.
 */
export function esfxCancelable(signal: AbortSignal): Cancelable {
  const cancelSignal: CancelSignal = {
    get signaled() {
      return signal.aborted;
    },
    get reason() {
      return signal.reason as unknown;
    },
    subscribe(onSignaled: () => void): CancelSubscription {
      signal.addEventListener('abort', onSignaled);
      return CancelSubscription.create(() => signal.removeEventListener('abort', onSignaled));
    },
  };
  return { [Cancelable.cancelSignal]: () => cancelSignal };
}

/** A trivial async task, the same function for every implementation. */
export const task = async (): Promise<void> => {};
