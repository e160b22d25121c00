/**
 * Lets every pending promise reaction run: enough microtask turns for a chain of awaits to settle. Uses only
 * promises, so it behaves the same under fake timers (which fake `queueMicrotask`, `nextTick` and `setImmediate`).
 */
export async function flush(turns = 50): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await Promise.resolve();
}
