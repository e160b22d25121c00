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

/** One entry of the shared context: a variable's value, over the entries of the enclosing contexts. */
interface Frame {
  readonly key: object;
  readonly value: unknown;
  readonly parent: Frame | undefined;
}

type Store = ContextVariable<Frame>;

/** The one store every variable shares; `null` until first needed, `undefined` when the runtime has none. */
let shared: Store | undefined | null = null;

/**
 * Every variable lives in one runtime store: Node keeps a list of every `AsyncLocalStorage` ever run and updates each
 * of them on every promise the process creates, so one store per lock would make every promise cost O(locks).
 */
function sharedStore(): Store | undefined {
  if (shared !== null) return shared;
  const globals = globalThis as ContextGlobals;
  const Variable = globals.AsyncContext?.Variable;
  if (typeof Variable === 'function') return (shared = new Variable<Frame>());
  let Storage: AsyncLocalStorageClass | undefined;
  try {
    Storage = globals.process?.getBuiltinModule?.('node:async_hooks')?.AsyncLocalStorage;
  } catch {
    Storage = undefined;
  }
  if (typeof Storage !== 'function') return (shared = undefined);
  const storage = new Storage<Frame>();
  return (shared = {
    get: () => storage.getStore(),
    run: (value, fn) => storage.run(value, fn),
  });
}

/**
 * Creates a context variable with the best mechanism the runtime has, or returns `undefined` when it has none.
 * Variables are entries of one shared store: a lookup walks the enclosing `run`s of every variable, a chain as long
 * as the calls are nested.
 */
export function createContextVariable<T>(): ContextVariable<T> | undefined {
  const store = sharedStore();
  if (store === undefined) return undefined;
  const key = {};
  return {
    get: () => {
      for (let frame = store.get(); frame !== undefined; frame = frame.parent) {
        if (frame.key === key) return frame.value as T;
      }
      return undefined;
    },
    run: (value, fn) => store.run({ key, value, parent: store.get() }, fn),
  };
}
