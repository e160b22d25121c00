/**
 * A run as a table a person reads at a glance: one column per task, one row per step, with virtual time.
 *
 * @module
 */

import type { Step, TimelineOptions } from './types.js';

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/**
 * Formats steps (a failure's `steps` from {@link explore}, or {@link Simulation.history}) as a timeline. A step's
 * cell shows what the task logged during it ({@link Simulation.log}), or else why it resumed.
 *
 * @param steps - the steps to show, in order.
 * @param options - see {@link TimelineOptions}.
 * @returns the table, lines joined with `\n`, no trailing newline.
 *
 * @example
 * ```ts
 * const sim = new Simulation();
 * sim.spawn('a', async () => sim.log('hello'));
 * sim.spawn('b', async () => {});
 * await sim.run();
 * console.log(formatTimeline(sim.history));
 * ```
 * prints
 * ```text
 * step  time  a      b
 *    1   0ms  hello
 *    2   0ms         start
 * ```
 */
export function formatTimeline(steps: readonly Step[], options: TimelineOptions = {}): string {
  const width = options.width ?? 32;
  if (typeof width !== 'number' || !Number.isInteger(width) || width < 4) {
    throw new RangeError(`options.width must be an integer >= 4, got ${String(width)}`);
  }
  const columns: string[] = [];
  for (const step of steps) {
    const column = step.task ?? '(clock)';
    if (!columns.includes(column)) columns.push(column);
  }
  const rows = steps.map((step) => {
    const text = step.logs.length > 0 ? step.logs.join('; ') : step.detail;
    return { step, column: columns.indexOf(step.task ?? '(clock)'), text: cut(text, width) };
  });
  const widths = columns.map((name, i) =>
    Math.max(name.length, ...rows.filter((row) => row.column === i).map((row) => row.text.length)),
  );
  const stepWidth = Math.max(4, String(steps.length).length);
  const timeWidth = Math.max(4, ...steps.map((step) => `${step.time}ms`.length));
  const line = (first: string, second: string, cells: string[]): string =>
    [
      first.padStart(stepWidth),
      second.padStart(timeWidth),
      ...cells.map((cell, i) => cell.padEnd(widths[i]!)),
    ]
      .join('  ')
      .trimEnd();
  const out = [line('step', 'time', columns)];
  for (const row of rows) {
    const cells = columns.map((_, i) => (i === row.column ? row.text : ''));
    out.push(line(String(row.step.index), `${row.step.time}ms`, cells));
  }
  return out.join('\n');
}
