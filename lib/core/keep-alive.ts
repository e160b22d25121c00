/**
 * Keeps a Node process alive while someone awaits a join or a disposal.
 *
 * Daemon tasks' timers do not keep Node alive (by design), so a program whose only pending work is an aborted
 * daemon's cleanup, awaited by `await using group`, would otherwise exit before the block ends (exit code 13, the
 * code after it never runs). Whoever waits for tasks to finish holds the process open until the wait settles.
 *
 * The handle is a referenced `MessagePort`: not a timer, so fake clocks neither see it nor fire it. One port serves
 * every wait at once (a count of holders); runtimes whose ports have no `ref` (browsers, which never exit early)
 * get nothing. Under the harness, or inside a daemon task, nothing is held: the simulation drives every step, and a
 * daemon must not keep the process alive.
 *
 * @module
 */

import { currentHook, inDetachedContext } from './scheduler.js';

interface Port {
  ref?(): void;
  close(): void;
}

let holders = 0;
let port: Port | undefined;
/** Set once the runtime is found to have no referenced ports. */
let unsupported = false;

function release(): void {
  if (--holders > 0) return;
  port?.close();
  port = undefined;
}

function hold(): boolean {
  if (unsupported) return false;
  if (holders === 0) {
    const Channel = (globalThis as { MessageChannel?: new () => { port1: Port; port2: Port } })
      .MessageChannel;
    const candidate = typeof Channel === 'function' ? new Channel().port1 : undefined;
    if (candidate === undefined || typeof candidate.ref !== 'function') {
      candidate?.close();
      unsupported = true;
      return false;
    }
    candidate.ref();
    port = candidate;
  }
  holders++;
  return true;
}

/** Holds the process open until `promise` settles; returns `promise` itself. */
export function keepAliveWhile<T>(promise: Promise<T>): Promise<T> {
  if (currentHook() !== undefined || inDetachedContext() || !hold()) return promise;
  promise.then(release, release);
  return promise;
}
