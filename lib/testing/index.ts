/**
 * `coop-sync/testing`: the deterministic test harness. The scheduler it drives is the hook in `lib/core` that every
 * primitive already routes its wake-ups and timers through.
 *
 * @module
 */
export { DeadlockError, type BlockedTask } from '../errors.js';
