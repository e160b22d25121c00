/**
 * Runs an example's `main()` when its file is the program being run (`tsx examples/odd-even.ts`, or
 * `npm run example -- odd-even`), and does nothing when the file is imported (by spec/examples.spec.ts, in Node or in
 * the browser bundle). Uses no Node module, so the examples stay importable from a browser.
 *
 * Every example runs its scenario inside a `Simulation` of `coop-sync/testing`: virtual time, and a schedule chosen
 * by the harness from a seed (`--seed N`, default {@link defaultSeed}). Examples that explore schedules also accept
 * `--replay <schedule>`, which re-runs the one interleaving they printed.
 *
 * @module
 */

import { Simulation } from 'coop-sync/testing';

/** Prints one line of an example's output. */
export type Print = (line: string) => void;

/** A progress line while an example explores: updated in place on a terminal, absent elsewhere. */
export interface Progress {
  /** Shows `text` as the current progress. */
  update(text: string): void;
  /** Removes the progress line, before the example prints its results. */
  clear(): void;
}

/** Options of an example, from its command line. */
export interface ExampleOptions {
  /** Seed of the harness's `random` (or `pct`) strategy. Default {@link defaultSeed}. */
  readonly seed?: number;
  /** A schedule the example printed: re-run exactly that interleaving (examples that explore only). */
  readonly replay?: string;
  /** Where to show progress while exploring. */
  readonly progress?: Progress;
}

/** What every example exports: runs the scenario, printing each line through `print`. */
export type Main = (print?: Print, options?: ExampleOptions) => Promise<void>;

/** The seed every example uses unless told otherwise: their specs assert the output it gives. */
export const defaultSeed = 1;

/** The simulation an example runs in: the `random` strategy with `options.seed` (default {@link defaultSeed}). */
export function simulation(options: ExampleOptions = {}): Simulation {
  return new Simulation({ strategy: 'random', seed: options.seed ?? defaultSeed });
}

/** `12ms` right-aligned in 5 columns: the prefix of an example's line that shows virtual time. */
export function at(sim: Simulation): string {
  return `${sim.now}ms`.padStart(5);
}

/** Whether the module at `moduleUrl` (its `import.meta.url`) is the script Node was asked to run. */
export function isDirectRun(moduleUrl: string): boolean {
  if (typeof process === 'undefined' || !Array.isArray(process.argv)) return false;
  const script = process.argv[1];
  if (typeof script !== 'string' || script === '') return false;
  let modulePath: string;
  try {
    modulePath = decodeURIComponent(new URL(moduleUrl).pathname);
  } catch {
    return false;
  }
  // `/C:/x/y.ts` on Windows vs `C:\x\y.ts`; `/x/y.ts` elsewhere.
  return modulePath.endsWith(script.replace(/\\/g, '/'));
}

/**
 * Reads `--seed N` and (when `replay` is accepted) `--replay <schedule>`.
 *
 * @throws Error with a usage message for anything else.
 */
export function parseArguments(args: readonly string[], accepts: { replay: boolean }): ExampleOptions {
  const usage = `usage: [--seed N]${accepts.replay ? ' [--replay <schedule>]' : ''}`;
  let seed: number | undefined;
  let replay: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = args[i + 1];
    if (flag === '--seed' && value !== undefined && /^\d{1,9}$/.test(value)) {
      seed = Number(value);
    } else if (flag === '--replay' && accepts.replay && value !== undefined) {
      replay = value;
    } else {
      throw new Error(`unexpected argument ${JSON.stringify(flag)}; ${usage}`);
    }
    i++;
  }
  return { ...(seed !== undefined && { seed }), ...(replay !== undefined && { replay }) };
}

/** A progress line updated in place, when standard output is a terminal; `undefined` otherwise (CI, a pipe). */
function terminalProgress(): Progress | undefined {
  const stdout = typeof process === 'undefined' ? undefined : process.stdout;
  if (stdout === undefined || !stdout.isTTY) return undefined;
  return {
    update: (text) => stdout.write(`\r${text}\x1b[K`),
    clear: () => stdout.write('\r\x1b[K'),
  };
}

/**
 * Calls `main()` if the example at `moduleUrl` was run directly, with the options read from the command line; a
 * failure is printed and sets a non-zero exit code.
 *
 * @param accepts - `replay: true` for examples that explore schedules and can re-run one.
 */
export function runMain(
  moduleUrl: string,
  main: Main,
  accepts: { replay: boolean } = { replay: false },
): void {
  if (!isDirectRun(moduleUrl)) return;
  let options: ExampleOptions;
  try {
    options = parseArguments(process.argv.slice(2), accepts);
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  const progress = terminalProgress();
  main(console.log, { ...options, ...(progress && { progress }) }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
