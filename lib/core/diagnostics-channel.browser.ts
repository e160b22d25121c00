/**
 * The default build's stand-in for `./diagnostics-channel.ts`: browsers have no `diagnostics_channel`, and the
 * bundle must not import Node built-ins, so every channel is absent and diagnostics cost nothing.
 *
 * @module
 */

import type { openChannel as nodeVersion } from './diagnostics-channel.js';

/** Has no channels to offer: returns `undefined`. Same signature as the Node version. */
export const openChannel: typeof nodeVersion = () => undefined;
