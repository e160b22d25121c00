/**
 * Runs an example's `main()` when its file is the program being run (`tsx examples/odd-even.ts`), and does nothing
 * when the file is imported (by spec/examples.spec.ts, in Node or in the browser bundle). Uses no Node module, so
 * the examples stay importable from a browser.
 *
 * @module
 */

/** What every example exports: runs the scenario, printing each line through `print`. */
export type Main = (print?: (line: string) => void) => Promise<void>;

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
 * Calls `main()` if the example at `moduleUrl` was run directly; a failure is printed and sets a non-zero exit
 * code.
 */
export function runMain(moduleUrl: string, main: Main): void {
  if (!isDirectRun(moduleUrl)) return;
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
