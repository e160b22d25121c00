/**
 * Async context: a value that follows a call across awaits, used by `AsyncRLock` to know who is asking.
 *
 * TC39 `AsyncContext.Variable` where the runtime has it; `AsyncLocalStorage` on Node, Deno and Bun (reached through
 * `process.getBuiltinModule`, so no static `node:` import reaches browser bundles); nothing elsewhere, where callers
 * pass ownership explicitly.
 *
 * @module
 */

/** A value scoped to a call and everything it awaits or starts. */
export interface ContextVariable<T> {
  /** The value in the calling context, or `undefined` outside any `run`. */
  get(): T | undefined;
  /** Calls `fn` with `value` as the context value, for `fn` and every async continuation it creates. */
  run<R>(value: T, fn: () => R): R;
}

interface AsyncContextVariableClass {
  new <T>(): { get(): T | undefined; run<R>(value: T, fn: () => R): R };
}

interface AsyncLocalStorageClass {
  new <T>(): { getStore(): T | undefined; run<R>(store: T, fn: () => R): R };
}

interface ContextGlobals {
  AsyncContext?: { Variable?: AsyncContextVariableClass };
  process?: { getBuiltinModule?: (id: string) => { AsyncLocalStorage?: AsyncLocalStorageClass } | undefined };
}

/**
 * Creates a context variable with the best mechanism the runtime has, or returns `undefined` when it has none.
 */
export function createContextVariable<T>(): ContextVariable<T> | undefined {
  const globals = globalThis as ContextGlobals;
  const Variable = globals.AsyncContext?.Variable;
  if (typeof Variable === 'function') return new Variable<T>();
  let Storage: AsyncLocalStorageClass | undefined;
  try {
    Storage = globals.process?.getBuiltinModule?.('node:async_hooks')?.AsyncLocalStorage;
  } catch {
    Storage = undefined;
  }
  if (typeof Storage !== 'function') return undefined;
  const storage = new Storage<T>();
  return {
    get: () => storage.getStore(),
    run: (value, fn) => storage.run(value, fn),
  };
}
