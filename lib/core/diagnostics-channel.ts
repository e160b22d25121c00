/**
 * The Node wiring of diagnostics: `diagnostics_channel` from `node:diagnostics_channel` (Node, Deno and Bun have it).
 *
 * Only the Node build (package export condition `node`) contains this module. The default build, for browsers and
 * bundlers targeting them, replaces it with `./diagnostics-channel.browser.ts` (see `scripts/default-build.mjs`),
 * so that no browser bundle imports `node:diagnostics_channel`; diagnostics are then a no-op.
 *
 * @module
 */

import { channel } from 'node:diagnostics_channel';

/** The part of a diagnostics channel that the package uses. */
export interface PublishChannel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

/** The named channel, shared with every subscriber of the process (`diagnostics_channel.subscribe(name, ...)`). */
export function openChannel(name: string): PublishChannel | undefined {
  return channel(name);
}
