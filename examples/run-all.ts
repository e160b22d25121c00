/**
 * `npm run examples`: runs every example in examples/ as its own program, the way `npm run demo` runs the main one
 * (`node --import tsx examples/<name>.ts`), prints its output, and exits non-zero if any example fails or prints
 * nothing. Not a scenario itself: the helpers (this file, run-main.ts, run-one.ts and race-report.ts) are skipped.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const directory = dirname(fileURLToPath(import.meta.url));
const helpers = new Set(['race-report.ts', 'run-all.ts', 'run-main.ts', 'run-one.ts']);
const examples = readdirSync(directory)
  .filter((file) => file.endsWith('.ts') && !helpers.has(file))
  .sort();

const failed: string[] = [];
for (const file of examples) {
  console.log(`::: examples/${file}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(directory, file)], {
    cwd: join(directory, '..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    // An example must end by itself, as a copied program would: one still running after a minute fails.
    timeout: 60_000,
  });
  process.stdout.write(result.stdout ?? '');
  if (result.status !== 0 || !result.stdout) {
    failed.push(file);
    console.log(
      `::: examples/${file} FAILED (exit ${result.status ?? result.signal}${result.stdout ? '' : ', no output'})`,
    );
  }
}
console.log(`::: ${examples.length - failed.length} of ${examples.length} examples ran`);
if (failed.length > 0) process.exitCode = 1;
