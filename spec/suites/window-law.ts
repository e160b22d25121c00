/**
 * The window law of a rate limiter, checked over a log of grants (used by the rate-limiter specs and the bench).
 */

export interface Grant {
  readonly time: number;
  readonly permits: number;
  /** When it was observed, among grants and pauses. */
  readonly seq?: number;
}

/** The worst window, as a violation message, or `undefined` when the law holds. */
export function checkWindowLaw(
  grants: readonly Grant[],
  law: { limit: number; interval: number; burst: number; strict: boolean },
): string | undefined {
  const sorted = [...grants].sort((a, b) => a.time - b.time);
  for (let i = 0; i < sorted.length; i++) {
    let sum = 0;
    for (let j = i; j < sorted.length; j++) {
      const span = sorted[j]!.time - sorted[i]!.time;
      if (law.strict && span >= law.interval) break;
      sum += sorted[j]!.permits;
      const bound = law.strict ? law.limit : law.burst + (law.limit * span) / law.interval;
      if (sum > bound + 1e-9) {
        return `${sum} permits in [${sorted[i]!.time}, ${sorted[j]!.time}] exceed ${bound}`;
      }
    }
  }
  return undefined;
}
