/**
 * What the threads primitives need to know about the agent (thread) they run in: its id, whether it may block, and
 * how to keep a Node process alive while it waits.
 *
 * @module
 */

import { MAX_AGENT_ID } from './ticket-lock.js';

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

const nodeProcess = (globalThis as { process?: NodeProcess }).process;
const isNode = typeof nodeProcess?.versions?.node === 'string';

let assignedId: number | undefined;

/**
 * The id of the calling agent, as a lock records its holder: in Node, `threadId` from `worker_threads` (0 for the
 * main thread; the parent sees it as `worker.threadId`); elsewhere an id this package picks at random once per agent
 * (a worker posts it to whoever will observe its death).
 *
 * @returns an integer from 0 to 536870909.
 *
 * @example
 * ```ts
 * import { agentId } from 'coop-sync/threads';
 * console.log(agentId()); // 0 on Node's main thread
 * ```
 */
export function agentId(): number {
  if (assignedId !== undefined) return assignedId;
  const threads = isNode
    ? (nodeProcess!.getBuiltinModule?.('worker_threads') as { threadId?: number })
    : undefined;
  if (threads !== undefined && typeof threads.threadId === 'number' && threads.threadId <= MAX_AGENT_ID) {
    assignedId = threads.threadId;
  } else {
    const random = new Uint32Array(1);
    globalThis.crypto.getRandomValues(random);
    assignedId = 1 + (random[0]! % MAX_AGENT_ID);
  }
  return assignedId;
}

let blockingAllowed: boolean | undefined;

/** Whether `Atomics.wait` may block this agent (not on a browser's main thread). */
export function canBlock(): boolean {
  if (blockingAllowed === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // 'not-equal' at once where allowed
      blockingAllowed = true;
    } catch {
      blockingAllowed = false;
    }
  }
  return blockingAllowed;
}

/** A fresh zeroed shared memory of `words` 32-bit words, or a clear TypeError where there is none. */
export function allocateWords(label: string, words: number): Int32Array {
  if (typeof SharedArrayBuffer !== 'function') {
    throw new TypeError(
      `${label}: SharedArrayBuffer is not available here (a browser page must be cross-origin isolated: ` +
        'serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    );
  }
  return new Int32Array(new SharedArrayBuffer(words * 4));
}

/**
 * Node 20 does not count a pending `Atomics.waitAsync` as work that keeps the process alive: while any wait of
 * this agent is pending, a message port with a listener does. Elsewhere this does nothing.
 */
let pendingWaits = 0;
let keeper: MessagePort | undefined;

export function waitStarted(): void {
  if (pendingWaits++ > 0 || !isNode) return;
  keeper = new MessageChannel().port1;
  keeper.onmessage = () => {}; // a port with a listener is a ref'd handle in Node
}

export function waitEnded(): void {
  if (--pendingWaits > 0 || keeper === undefined) return;
  keeper.close();
  keeper = undefined;
}
