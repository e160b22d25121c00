/**
 * The test-runner one-liner: a scenario as a test that fails with the timeline and the replay command.
 *
 * @module
 */

import { ExplorationError } from './errors.js';
import { explore } from './explore.js';
import { formatTimeline } from './timeline.js';
import type { CheckOptions, ExploreFailure, ExploreResult, Scenario } from './types.js';

/** The report of a failure: what failed, the timeline with each task's log lines, how to replay it. */
export function describeFailure(failure: ExploreFailure, name = 'scenario'): string {
  const error = failure.error;
  const headline = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return [
    `${name} fails under a schedule that departs ${failure.preemptions} time${
      failure.preemptions === 1 ? '' : 's'
    } from FIFO order (the fewest found):`,
    `  ${headline.split('\n').join('\n  ')}`,
    '',
    formatTimeline(failure.steps, { width: 48 }),
    '',
    `replay: await replay(${name}, '${failure.schedule}')`,
  ].join('\n');
}

/**
 * Explores `scenario` (as {@link explore}, `strategy: 'auto'` by default) and throws unless it holds under every
 * schedule: the one line a test needs, in any runner. The error's message has the failure, its timeline with each
 * task's log lines, and the replay command; a search that ended without covering every schedule fails too, with a
 * warning saying how much it covered (pass `partial: true` to accept that).
 *
 * @param scenario - the scenario, as for {@link explore}.
 * @param options - {@link explore}'s options, and `partial` and `name` (see {@link CheckOptions}).
 * @returns the result, when the scenario holds.
 * @throws {@link ExplorationError} when a schedule fails, or when the search was partial and `partial` is not set;
 *   what {@link explore} throws.
 *
 * @example
 * ```ts
 * // mocha, node:test or vitest alike:
 * it('the counter never loses an update', () => check(counter, { name: 'counter' }));
 * ```
 */
export async function check(scenario: Scenario, options: CheckOptions = {}): Promise<ExploreResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { partial = false, name = 'scenario', ...rest } = options;
  if (typeof partial !== 'boolean') throw new TypeError('options.partial must be a boolean');
  if (typeof name !== 'string') throw new TypeError('options.name must be a string');
  const result = await explore(scenario, rest);
  const failure = result.failure;
  if (failure !== undefined) {
    throw new ExplorationError(describeFailure(failure, name), failure.schedule, { cause: failure.error });
  }
  if (!result.exhausted && !partial) {
    throw new ExplorationError(
      result.warning ??
        `${name}: ${result.runs} runs found no failure, but did not cover every schedule (runs or maxDelays cut ` +
          'the search short). This is not a proof. Raise runs, or pass partial: true to accept it.',
      undefined,
    );
  }
  return result;
}
