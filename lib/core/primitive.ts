/**
 * The introspection every primitive shares (its `label` and `name`, a `waiting` count, `toString()`), written once.
 *
 * @module
 */

import { labelFor, type NameOptions } from './options.js';

/**
 * The base of a primitive: `label` (`kind(name)`, the prefix of `toString()` and of every error message), `name`
 * (from the constructor's options) and `toString()` as `label[state]`. A subclass gives its kind and options to
 * `super`, its `waiting` count and its state.
 */
export abstract class Primitive {
  /** The primitive's kind and name, as in `toString()` and error messages: `AsyncLock(db)`, or `AsyncLock`. */
  readonly label: string;
  /** The name given to the constructor, if any. */
  readonly name: string | undefined;

  /**
   * @param kind - the class name shown in the label.
   * @param options - the constructor's options; `name` is shown by `toString()`, in messages and deadlock reports.
   * @throws TypeError - when `options` is not an object or `options.name` is not a string.
   */
  constructor(kind: string, options: NameOptions | undefined) {
    this.label = labelFor(kind, options);
    this.name = options?.name;
  }

  /** How many callers are waiting. */
  abstract get waiting(): number;

  /** Describes the primitive: its label, then its state in brackets, such as `AsyncEvent(ready)[unset, waiting=2]`. */
  toString(): string {
    return `${this.label}[${this.describeState()}]`;
  }

  /** The state shown in brackets by `toString()`. */
  protected abstract describeState(): string;
}
