// The differences between the Node build of coop-sync and its default build (browsers, and bundlers for them):
// lib/core/async-local-storage.ts, the Node wiring of async context (a static `import 'node:async_hooks'`), is
// replaced by lib/core/async-local-storage.browser.ts, which has none; and lib/core/diagnostics-channel.ts (a static
// `import 'node:diagnostics_channel'`) by lib/core/diagnostics-channel.browser.ts, a no-op. Used by rollup.config.mjs for the default and
// browser builds, and by scripts/browser-test.mjs so that the browser specs run what the browser build ships.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const core = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'core');
/** Each Node-only module of lib/core and its browser stand-in. */
const stubs = new Map(
  ['async-local-storage', 'diagnostics-channel'].map((name) => [
    join(core, `${name}.ts`),
    join(core, `${name}.browser.ts`),
  ]),
);

/** Rollup plugin: resolves every import of the Node wiring to its browser stand-in. Put it before typescript(). */
export function withoutNodeContext() {
  return {
    name: 'coop-sync-without-node-context',
    async resolveId(source, importer, options) {
      if (
        importer === undefined ||
        !/(^|\/)(async-local-storage|diagnostics-channel)(\.js|\.ts)?$/.test(source)
      )
        return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return (resolved && stubs.get(resolved.id)) ?? null;
    },
  };
}
