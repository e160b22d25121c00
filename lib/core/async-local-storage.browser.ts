/**
 * The default build's stand-in for `./async-local-storage.ts`: no `AsyncLocalStorage` (browsers have none, and the
 * bundle must not import Node built-ins). `AsyncRLock` then relies on TC39 `AsyncContext` where the runtime has
 * it, and on explicit `{ owner: guard }` elsewhere.
 *
 * @module
 */

import type { createAsyncLocalStorage as nodeVersion } from './async-local-storage.js';

/** Has no async context to offer: returns `undefined`. Same signature as the Node version. */
export const createAsyncLocalStorage: typeof nodeVersion = () => undefined;
