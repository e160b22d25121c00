/**
 * A real macrotask, captured when this module loads, never a faked one: awaiting it lets every pending microtask run
 * first. `setImmediate` where the runtime has it, else a `MessageChannel` (which fake-timer libraries leave alone).
 *
 * @module
 */

type Immediate = (callback: () => void) => unknown;

interface Port {
  onmessage: (() => void) | null;
  postMessage(message: unknown): void;
  ref?(): void;
  unref?(): void;
}

interface MacrotaskGlobals {
  setImmediate?: Immediate & { clock?: unknown };
  MessageChannel?: new () => { port1: Port; port2: Port };
}

const globals = globalThis as MacrotaskGlobals;
// A fake-timers `setImmediate` carries its clock; one installed before this module loaded must not be captured.
const immediate =
  typeof globals.setImmediate === 'function' && globals.setImmediate.clock === undefined
    ? globals.setImmediate.bind(globalThis)
    : undefined;
const Channel = globals.MessageChannel;

let channel: { port1: Port; port2: Port } | undefined;
const waiting: (() => void)[] = [];

function viaChannel(resolve: () => void): void {
  if (channel === undefined) {
    if (Channel === undefined) throw new Error('coop-sync/testing needs setImmediate or MessageChannel');
    channel = new Channel();
    channel.port1.onmessage = () => {
      const next = waiting.shift();
      if (waiting.length === 0) channel?.port1.unref?.();
      next?.();
    };
  }
  if (waiting.length === 0) channel.port1.ref?.();
  waiting.push(resolve);
  channel.port2.postMessage(undefined);
}

/** Resolves in a later macrotask, after every microtask queued before it (and those they queue) has run. */
export function macrotask(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (immediate !== undefined) immediate(resolve);
    else viaChannel(resolve);
  });
}
