/**
 * The bug zoo: twelve classic async bugs, each as a scenario with the bug and the same scenario fixed. Every one
 * passes in FIFO order (production's order): only another interleaving shows the bug. The steps declare what they
 * touch (`sim.yield(touches)`, `spawn(..., touches)`, `sim.declare`), so that the reduction can prove the fixed
 * versions in few schedules; a step that declares nothing touches everything. Used by zoo.spec.ts and by bench row 9.
 */
import {
  AsyncCondition,
  AsyncEvent,
  AsyncLock,
  AsyncQueue,
  AsyncSemaphore,
  QueueEmptyError,
} from '../../lib/index.js';
import type { Scenario, Simulation } from '../../lib/testing/index.js';

/** One bug of the zoo. */
export interface Specimen {
  readonly name: string;
  readonly buggy: Scenario;
  readonly fixed: Scenario;
}

/** `n` yields that touch nothing; the step after the last one touches `then`. */
async function idle(sim: Simulation, n: number, then: Parameters<Simulation['yield']>[0]): Promise<void> {
  for (let i = 0; i < n; i++) await sim.yield(i === n - 1 ? then : []);
}

function lostUpdate(fixed: boolean): Scenario {
  return async (sim) => {
    const lock = new AsyncLock({ name: 'count' });
    let count = 0;
    const add = async () => {
      const read = count;
      sim.log(`read ${read}`);
      await sim.yield([lock, 'count']);
      count = read + 1;
      sim.log(`wrote ${count}`);
    };
    sim.spawn(
      'a',
      async () => {
        sim.declare([lock, 'count']);
        await (fixed ? lock.run(add) : add());
      },
      [lock, 'count'],
    );
    sim.spawn(
      'b',
      async () => {
        await idle(sim, 2, [lock, 'count']); // a login first
        sim.declare([lock, 'count']);
        await (fixed ? lock.run(add) : add());
      },
      [],
    );
    await sim.run();
    if (count !== 2) throw new Error(`lost update: count = ${count}`);
  };
}

function lockOrder(fixed: boolean): Scenario {
  return async (sim) => {
    const a = new AsyncLock({ name: 'A' });
    const b = new AsyncLock({ name: 'B' });
    const both = [a, b];
    const take = (first: AsyncLock, second: AsyncLock) => () =>
      first.run(async () => {
        await sim.yield(both);
        sim.declare(both);
        await second.run(async () => {});
      });
    sim.spawn(
      't1',
      async () => {
        sim.declare(both);
        await take(a, b)();
      },
      both,
    );
    sim.spawn(
      't2',
      async () => {
        await idle(sim, 1, both);
        sim.declare(both);
        await (fixed ? take(a, b) : take(b, a))();
      },
      [],
    );
  };
}

function ifNotWhile(fixed: boolean): Scenario {
  return async (sim) => {
    const lock = new AsyncLock({ name: 'buffer' });
    const notFull = new AsyncCondition(lock, { name: 'notFull' });
    const notEmpty = new AsyncCondition(lock, { name: 'notEmpty' });
    const buffer: number[] = [];
    sim.spawn('producer', async () => {
      for (let item = 1; item <= 4; item++) {
        await lock.run(async () => {
          while (buffer.length === 1) await notFull.wait();
          buffer.push(item);
          notEmpty.notify();
        });
      }
    });
    for (const name of ['consumer A', 'consumer B']) {
      sim.spawn(name, async () => {
        for (let n = 0; n < 2; n++) {
          await lock.run(async () => {
            if (fixed) {
              while (buffer.length === 0) await notEmpty.wait();
            } else if (buffer.length === 0) await notEmpty.wait();
            if (buffer.shift() === undefined) throw new Error(`${name} took from an empty buffer`);
            notFull.notify();
          });
        }
      });
    }
  };
}

function lostWakeup(fixed: boolean): Scenario {
  return async (sim) => {
    const lock = new AsyncLock({ name: 'm' });
    const ready = new AsyncCondition(lock, { name: 'ready' });
    let flag = false;
    sim.spawn('waiter', async () => {
      if (fixed) {
        await lock.run(async () => {
          while (!flag) await ready.wait();
        });
      } else if (!flag) {
        await sim.yield(); // checked outside the lock: the notify may come here
        await lock.run(() => ready.wait());
      }
    });
    sim.spawn('notifier', async () => {
      await sim.yield();
      await sim.yield();
      await lock.run(async () => {
        flag = true;
        ready.notifyAll();
      });
    });
  };
}

function checkThenAct(fixed: boolean): Scenario {
  return async (sim) => {
    const queue = new AsyncQueue<number>(0, { name: 'jobs' });
    queue.putNowait(1);
    let taken = 0;
    const consumer = (logins: number) => async () => {
      await idle(sim, logins, [queue, 'taken']);
      if (fixed) {
        try {
          queue.getNowait();
          taken++;
        } catch (error) {
          if (!(error instanceof QueueEmptyError)) throw error;
        }
      } else if (queue.size > 0) {
        await sim.yield([queue, 'taken']);
        queue.getNowait();
        taken++;
      }
    };
    sim.spawn('c1', consumer(1), []);
    sim.spawn('c2', consumer(3), []);
    await sim.run();
    if (taken !== 1) throw new Error(`taken ${taken}`);
  };
}

function doubleInit(fixed: boolean): Scenario {
  return async (sim) => {
    let instance: object | undefined;
    let pending: Promise<object> | undefined;
    let created = 0;
    const connect = async (): Promise<object> => {
      await sim.yield('instance'); // the handshake
      created++;
      return {};
    };
    const get = async (): Promise<object> => {
      if (fixed) return (pending ??= connect());
      if (instance === undefined) instance = await connect();
      return instance;
    };
    sim.spawn('a', async () => void (await get()), 'instance');
    sim.spawn(
      'b',
      async () => {
        await idle(sim, 1, 'instance');
        await get();
      },
      [],
    );
    await sim.run();
    if (created !== 1) throw new Error(`created ${created} connections`);
  };
}

function lateWindow(fixed: boolean): Scenario {
  return async (sim) => {
    let x = 0;
    sim.spawn(
      'a',
      async () => {
        await idle(sim, 10, 'x');
        if (fixed) {
          await sim.yield('x');
          x += 1; // read after the await
        } else {
          const read = x;
          await sim.yield('x');
          x = read + 1;
        }
      },
      [],
    );
    sim.spawn(
      'b',
      async () => {
        await idle(sim, 12, 'x');
        x += 1;
      },
      [],
    );
    await sim.run();
    if (x !== 2) throw new Error(`lost update after 10 steps: x = ${x}`);
  };
}

function rareDeadlock(fixed: boolean): Scenario {
  return async (sim) => {
    const a = new AsyncLock({ name: 'A' });
    const b = new AsyncLock({ name: 'B' });
    const both = [a, b];
    sim.spawn(
      't1',
      async () => {
        await a.run(async () => {
          await idle(sim, 6, both);
          sim.declare(both);
          await b.run(async () => {});
        });
      },
      [a],
    );
    sim.spawn(
      't2',
      async () => {
        await idle(sim, 12, both);
        const [first, second] = fixed ? [a, b] : [b, a];
        sim.declare(both);
        await first.run(async () => {
          await sim.yield(both);
          sim.declare(both);
          await second.run(async () => {});
        });
      },
      [],
    );
  };
}

/** `tasks` tasks, at most `tasks - 1` of them active at once; the checked limit is broken only by all of them. */
export function invariant(fixed: boolean, tasks = 3): Scenario {
  return async (sim) => {
    const limit = tasks - 1;
    const slots = new AsyncSemaphore(limit, { name: 'slots' });
    const touched = [slots, 'active'];
    let active = 0;
    const work = async () => {
      active++;
      if (active > limit) throw new Error(`${active} tasks active, the limit is ${limit}`);
      await sim.yield(touched);
      active--;
    };
    for (let t = 0; t < tasks; t++) {
      sim.spawn(
        `t${t}`,
        async () => {
          await idle(sim, 2 * t, touched);
          if (fixed) {
            sim.declare(touched);
            await slots.run(work);
          } else if (active < limit) {
            await sim.yield(touched);
            await work();
          }
        },
        t === 0 ? touched : [],
      );
    }
  };
}

function exactTimeout(fixed: boolean): Scenario {
  return async (sim) => {
    const lock = new AsyncLock({ name: 'conn' });
    sim.spawn('holder', () => lock.run(() => sim.sleep(10)));
    sim.spawn('waiter', async () => {
      const guard = await lock.acquire({ timeout: fixed ? 11 : 10 }); // the holder is done at 10
      guard.release();
    });
  };
}

function abaCache(fixed: boolean): Scenario {
  return async (sim) => {
    let value = 'A';
    let version = 0;
    sim.spawn(
      'refresher',
      async () => {
        const seen = value;
        const seenVersion = version;
        await sim.yield('cache');
        if (fixed ? version === seenVersion : value === seen) {
          if (version !== seenVersion) throw new Error(`ABA: the cache went A, B, A under the refresher`);
          value = `${seen}!`;
          version++;
        }
      },
      'cache',
    );
    sim.spawn(
      'writer',
      async () => {
        await sim.yield('cache');
        value = 'B';
        version++;
        await sim.yield('cache');
        value = 'A';
        version++;
      },
      [],
    );
  };
}

/** A semaphore of one permit, written by hand: `barging` wakes a waiter but lets a newcomer take the permit first. */
class HandWrittenSemaphore {
  private permits = 1;
  private readonly queue: AsyncEvent[] = [];
  private readonly pending = new Set<string>();

  constructor(private readonly barging: boolean) {}

  async acquire(name: string): Promise<void> {
    const ahead = [...this.pending];
    this.pending.add(name);
    if (this.barging) {
      while (this.permits === 0) {
        const event = new AsyncEvent({ name: 'sem' });
        this.queue.push(event);
        await event.wait();
      }
      this.permits--;
    } else if (this.permits > 0 && this.queue.length === 0) {
      this.permits--;
    } else {
      const event = new AsyncEvent({ name: 'sem' });
      this.queue.push(event);
      await event.wait(); // the permit is handed over with the wake-up
    }
    for (const other of ahead) {
      if (this.pending.has(other)) throw new Error(`barging: ${name} took the permit ahead of ${other}`);
    }
    this.pending.delete(name);
  }

  release(): void {
    const next = this.queue.shift();
    if (this.barging || next === undefined) this.permits++;
    next?.set();
  }
}

function barging(fixed: boolean): Scenario {
  return async (sim) => {
    const sem = new HandWrittenSemaphore(!fixed);
    // 'sem' is the semaphore's state; the harness adds the events it parks on and wakes from.
    sim.spawn(
      'holder',
      async () => {
        await sem.acquire('holder');
        await idle(sim, 2, 'sem');
        sem.release();
      },
      'sem',
    );
    sim.spawn(
      'waiter',
      async () => {
        await idle(sim, 1, 'sem');
        sim.declare('sem');
        await sem.acquire('waiter');
        await sim.yield('sem');
        sem.release();
      },
      [],
    );
    sim.spawn(
      'newcomer',
      async () => {
        await idle(sim, 5, 'sem');
        sim.declare('sem');
        await sem.acquire('newcomer');
        sem.release();
      },
      [],
    );
  };
}

const kinds: [string, (fixed: boolean) => Scenario][] = [
  ['lost update', lostUpdate],
  ['lock-order inversion', lockOrder],
  ['if instead of while', ifNotWhile],
  ['lost wake-up', lostWakeup],
  ['check-then-act on a queue', checkThenAct],
  ['double lazy init', doubleInit],
  ['a late window after 10 steps', lateWindow],
  ['a rare deadlock needing a 6-step stall', rareDeadlock],
  ['a three-task invariant', (fixed) => invariant(fixed, 3)],
  ['a timeout at an exact virtual moment', exactTimeout],
  ['ABA on a cache', abaCache],
  ['barging in a hand-written semaphore', barging],
];

/** The twelve bugs, each with its fixed version. */
export const zoo: readonly Specimen[] = kinds.map(([name, make]) => ({
  name,
  buggy: make(false),
  fixed: make(true),
}));
