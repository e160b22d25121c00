/**
 * The Node wiring of async context: `AsyncLocalStorage` from `node:async_hooks` (Node, Deno and Bun all have it).
 *
 * Only the Node build (package export condition `node`) contains this module. The default build, for browsers and
 * bundlers targeting them, replaces it with `./async-local-storage.browser.ts` (see `rollup.config.mjs`), so that
 * no browser bundle imports, or even names, `node:async_hooks`.
 *
 * @module
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { ContextVariable } from './context.js';

/** Creates a context variable backed by `AsyncLocalStorage`. */
export function createAsyncLocalStorage<T>(): ContextVariable<T> | undefined {
  const storage = new AsyncLocalStorage<T>();
  return {
    get: () => storage.getStore(),
    run: (value, fn) => storage.run(value, fn),
  };
}
