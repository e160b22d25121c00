/**
 * Async context: a value that follows a call across awaits, used by `AsyncRLock` to know who is asking.
 *
 * TC39 `AsyncContext.Variable` where the runtime has it; else `AsyncLocalStorage` through
 * {@link createAsyncLocalStorage}, whose module has one version per build: the Node build (package export condition
 * `node`, used by Node, Deno and Bun) imports it statically from the Node built-in, while the default build
 * (browsers and bundlers for them) has `./async-local-storage.browser.ts` in its place and never names that module.
 * Nothing elsewhere: callers pass ownership explicitly.
 *
 * @module
 */

import { createAsyncLocalStorage } from './async-local-storage.js';

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

/** One entry of the shared context: a variable's value, over the entries of the enclosing contexts. */
interface Frame {
  readonly key: object;
  readonly value: unknown;
  readonly parent: Frame | undefined;
}

type Store = ContextVariable<Frame>;

/** The one store every variable shares; `null` until first needed, `undefined` when the runtime has none. */
let shared: Store | undefined | null = null;

/** Set while {@link withoutAsyncContext} runs. */
let unavailable = false;

/**
 * Every variable lives in one runtime store: Node keeps a list of every `AsyncLocalStorage` ever run and updates each
 * of them on every promise the process creates, so one store per lock would make every promise cost O(locks).
 */
function sharedStore(): Store | undefined {
  if (shared !== null) return shared;
  const Variable = (globalThis as { AsyncContext?: { Variable?: AsyncContextVariableClass } }).AsyncContext
    ?.Variable;
  if (typeof Variable === 'function') return (shared = new Variable<Frame>());
  return (shared = createAsyncLocalStorage<Frame>());
}

/**
 * Creates a context variable with the best mechanism the runtime has, or returns `undefined` when it has none.
 * Variables are entries of one shared store: a lookup walks the enclosing `run`s of every variable, a chain as long
 * as the calls are nested.
 *
 * @param always - ignore {@link withoutAsyncContext}: for a variable of the package itself, made at its first use
 *   (which may be inside it), not for an object a spec builds there.
 */
export function createContextVariable<T>(always = false): ContextVariable<T> | undefined {
  if (unavailable && !always) return undefined;
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

/**
 * @internal For specs: calls `make` as a runtime without async context would (a browser today), so that the objects
 * it creates get no context variable. Not part of the package's API.
 */
export function withoutAsyncContext<R>(make: () => R): R {
  const previous = unavailable;
  unavailable = true;
  try {
    return make();
  } finally {
    unavailable = previous;
  }
}
