/**
 * `npm run example -- <name> [--seed N] [--replay <schedule>]`: runs one example (examples/<name>.ts) as its own
 * program, with the rest of the arguments, and exits with its exit code. Without a name, lists the examples.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const directory = dirname(fileURLToPath(import.meta.url));
const helpers = new Set(['race-report.ts', 'run-all.ts', 'run-main.ts', 'run-one.ts']);
const names = readdirSync(directory)
  .filter((file) => file.endsWith('.ts') && !helpers.has(file))
  .map((file) => file.slice(0, -'.ts'.length))
  .sort();

const [name, ...args] = process.argv.slice(2);
const wanted = name?.replace(/^examples\//, '').replace(/\.ts$/, '');
if (wanted === undefined || !names.includes(wanted)) {
  if (name !== undefined) console.error(`no example named ${JSON.stringify(name)}`);
  console.error(
    `usage: npm run example -- <name> [--seed N] [--replay <schedule>]\nexamples: ${names.join(', ')}`,
  );
  process.exitCode = 2;
} else {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(directory, `${wanted}.ts`), ...args], {
    cwd: join(directory, '..'),
    stdio: 'inherit',
  });
  process.exitCode = result.status ?? 1;
}
