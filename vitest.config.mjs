// vitest runs examples/testing/vitest.test.ts (spec/testing/runners.node.spec.ts), whose imports are the package's
// own names, as a user's would be: point them at the sources, as tsconfig.json's "paths" does for tsc and tsx.
import { fileURLToPath } from 'node:url';

const source = (path) => fileURLToPath(new URL(path, import.meta.url));

export default {
  resolve: {
    alias: [
      { find: /^coop-sync$/, replacement: source('./lib/index.ts') },
      { find: /^coop-sync\/(testing|threads|redis)$/, replacement: source('./lib/$1/index.ts') },
    ],
  },
};
