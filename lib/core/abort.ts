/**
 * One abort listener per `AbortSignal`, shared by every waiter that uses that signal.
 *
 * A runtime's `addEventListener`/`removeEventListener` is linear in the listeners already on the target, and Node
 * warns (`MaxListenersExceededWarning`) past ten: a listener per waiter makes n waiters on one signal cost O(n^2)
 * and print a warning. Here the first watcher of a signal registers the one listener; later ones join its set, and
 * leaving is a `Set` deletion, O(1). The listener is removed when the last watcher leaves (or when the signal
 * fires), so a long-lived signal keeps nothing once its waits have settled.
 *
 * @module
 */

/** Something that must be told when a signal aborts (a parked waiter, a deadline). */
export interface AbortWatcher {
  /** The signal aborted; the watcher has already been removed from it. */
  signalAborted(reason: unknown): void;
}

/** The listener registered on one signal, and the watchers it tells, in the order they started watching. */
class SignalWatch {
  readonly watchers = new Set<AbortWatcher>();

  constructor(private readonly signal: AbortSignal) {}

  /** The one `abort` listener: tells every watcher, oldest first, and unregisters itself. */
  handleEvent(): void {
    const signal = this.signal;
    watches.delete(signal);
    signal.removeEventListener('abort', this);
    const watchers = this.watchers;
    const reason: unknown = signal.reason;
    // Live iteration: a watcher told earlier may make another leave (a grant it caused), and it is then skipped.
    for (const watcher of watchers) {
      watchers.delete(watcher);
      watcher.signalAborted(reason);
    }
  }
}

const watches = new WeakMap<AbortSignal, SignalWatch>();

/** Tells `watcher` when `signal` aborts, until {@link unwatchSignal}. O(1); one listener per signal in all. */
export function watchSignal(signal: AbortSignal, watcher: AbortWatcher): void {
  let watch = watches.get(signal);
  if (watch === undefined) {
    watch = new SignalWatch(signal);
    watches.set(signal, watch);
    signal.addEventListener('abort', watch);
  }
  watch.watchers.add(watcher);
}

/** Stops telling `watcher` about `signal`; the last watcher to leave removes the listener. O(1). */
export function unwatchSignal(signal: AbortSignal, watcher: AbortWatcher): void {
  const watch = watches.get(signal);
  if (watch === undefined || !watch.watchers.delete(watcher)) return;
  if (watch.watchers.size === 0) {
    watches.delete(signal);
    signal.removeEventListener('abort', watch);
  }
}
