import { expect } from 'chai';
import { AsyncLocalStorage } from 'node:async_hooks';
import { AsyncRLock, TaskGroup } from '../../lib/index.js';
import { createContextVariable } from '../../lib/core/context.js';

describe('core/context (Node)', () => {
  it('every variable shares one AsyncLocalStorage, so promises do not cost more per rlock', async () => {
    const stores = new Set<unknown>();
    const run = AsyncLocalStorage.prototype.run;
    AsyncLocalStorage.prototype.run = function (
      this: AsyncLocalStorage<unknown>,
      ...args: Parameters<typeof run>
    ) {
      stores.add(this);
      return run.apply(this, args) as unknown;
    } as typeof run;
    try {
      for (let i = 0; i < 50; i++) {
        const rlock = new AsyncRLock();
        await rlock.run(() => rlock.run(async () => {}));
      }
    } finally {
      AsyncLocalStorage.prototype.run = run;
    }
    expect(stores.size).to.equal(1);
  });

  it('variables stay apart in the shared store, and nested runs see their own and the enclosing values', async () => {
    const a = createContextVariable<string>()!;
    const b = createContextVariable<string>()!;
    const seen: unknown[] = [];
    await a.run('a1', () =>
      b.run('b1', async () => {
        await null;
        seen.push(a.get(), b.get());
        await a.run('a2', async () => {
          await null;
          seen.push(a.get(), b.get());
        });
        seen.push(a.get());
      }),
    );
    seen.push(a.get(), b.get());
    expect(seen).to.deep.equal(['a1', 'b1', 'a2', 'b1', 'a1', undefined, undefined]);
  });

  it('a TaskGroup without daemon tasks enters no async context (which would slow every promise of the process)', async () => {
    let runs = 0;
    const run = AsyncLocalStorage.prototype.run;
    AsyncLocalStorage.prototype.run = function (
      this: AsyncLocalStorage<unknown>,
      ...args: Parameters<typeof run>
    ) {
      runs++;
      return run.apply(this, args) as unknown;
    } as typeof run;
    try {
      const group = new TaskGroup();
      group.spawn(async () => {
        group.spawn(async () => {});
      });
      await group.join();
      expect(runs).to.equal(0);
      const daemons = new TaskGroup();
      daemons.spawn(async (signal) => new Promise((resolve) => signal.addEventListener('abort', resolve)), {
        daemon: true,
      });
      daemons.spawn(async () => {});
      await daemons.join();
      expect(runs).to.equal(1);
    } finally {
      AsyncLocalStorage.prototype.run = run;
    }
  });
});
