import { expect } from 'chai';
import sinon from 'sinon';
import { QueueEmptyError, QueueFullError, QueueShutDownError, TimeoutError } from '../lib/errors.js';
import { AsyncQueue } from '../lib/queue.js';
import { AsyncLifoQueue, AsyncPriorityQueue } from '../lib/queue-kinds.js';

/** Lets every pending promise reaction run (microtasks only; timers stay fake). */
async function flush(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await Promise.resolve();
}

/** Records how `promise` settles into `events`, as `label:value` or `label:ErrorName`. */
function record(events: string[], label: string, promise: Promise<unknown>): void {
  promise.then(
    (value) => events.push(value === undefined ? `${label}:done` : `${label}:${String(value)}`),
    (error: unknown) => events.push(`${label}:${(error as Error).name}`),
  );
}

/** The class invariants: getters wait only while the queue is empty, putters only while it is full. */
function checkInvariants<T>(queue: AsyncQueue<T>): void {
  if (queue.waitingGetters > 0) expect(queue.size, `${queue} has getters`).to.equal(0);
  if (queue.waitingPutters > 0) expect(queue.full, `${queue} has putters`).to.equal(true);
  if (queue.maxsize > 0) expect(queue.size).to.be.at.most(queue.maxsize);
  expect(queue.waiting).to.equal(queue.waitingGetters + queue.waitingPutters);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The order in which a kind of queue serves its items: a reference model. */
interface Model {
  put(item: number): void;
  take(): number;
}

interface Kind {
  name: string;
  create<T>(maxsize?: number, options?: { name?: string }): AsyncQueue<T>;
  model(): Model;
}

const kinds: Kind[] = [
  {
    name: 'AsyncQueue',
    create: (maxsize, options) => new AsyncQueue(maxsize, options),
    model: () => {
      const items: number[] = [];
      return { put: (item) => items.push(item), take: () => items.shift() as number };
    },
  },
  {
    name: 'AsyncLifoQueue',
    create: (maxsize, options) => new AsyncLifoQueue(maxsize, options),
    model: () => {
      const items: number[] = [];
      return { put: (item) => items.push(item), take: () => items.pop() as number };
    },
  },
  {
    name: 'AsyncPriorityQueue',
    create: (maxsize, options) => new AsyncPriorityQueue(maxsize, options),
    model: () => {
      const items: number[] = [];
      return {
        put: (item) => items.push(item),
        take: () => {
          const smallest = items.indexOf(Math.min(...items));
          return items.splice(smallest, 1)[0] as number;
        },
      };
    },
  },
];

let clock: sinon.SinonFakeTimers;

/** Fakes timers (not microtasks) around each test of the calling `describe`. */
function useFakeClock(): void {
  beforeEach(function () {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(function () {
    clock.restore();
  });
}

for (const kind of kinds) {
  describe(`${kind.name} (shared cases)`, function () {
    useFakeClock();

    describe('basics', function () {
      it('reports empty, full, size and maxsize', function () {
        const unbounded = kind.create<number>();
        expect(unbounded.maxsize).to.equal(0);
        expect(unbounded.empty).to.equal(true);
        expect(unbounded.full).to.equal(false);
        for (let item = 0; item < 100; item++) unbounded.putNowait(item);
        expect(unbounded.full).to.equal(false);
        expect(unbounded.size).to.equal(100);

        const queue = kind.create<number>(1);
        expect(queue.maxsize).to.equal(1);
        expect(queue.full).to.equal(false);
        queue.putNowait(1);
        expect([queue.empty, queue.full, queue.size]).to.deep.equal([false, true, 1]);
        expect(queue.getNowait()).to.equal(1);
        expect([queue.empty, queue.full, queue.size]).to.deep.equal([true, false, 0]);
      });

      it('serves items in its order (test_order)', function () {
        const queue = kind.create<number>();
        const model = kind.model();
        for (const item of [1, 3, 2]) {
          queue.putNowait(item);
          model.put(item);
        }
        const items = [queue.getNowait(), queue.getNowait(), queue.getNowait()];
        expect(items).to.deep.equal([model.take(), model.take(), model.take()]);
      });

      it('keeps its order across many puts and gets (store growth and wrap-around)', function () {
        const queue = kind.create<number>();
        const model = kind.model();
        const got: number[] = [];
        const expected: number[] = [];
        let next = 0;
        for (const [puts, gets] of [
          [6, 3],
          [20, 10],
          [5, 15],
          [40, 20],
          [0, 23],
        ] as const) {
          for (let index = 0; index < puts; index++, next++) {
            const item = (next * 7919) % 101;
            queue.putNowait(item);
            model.put(item);
          }
          for (let index = 0; index < gets; index++) {
            got.push(queue.getNowait());
            expected.push(model.take());
          }
        }
        expect(queue.size).to.equal(0);
        expect(got).to.deep.equal(expected);
      });

      it('accepts undefined and null as items', async function () {
        const queue = kind.create<unknown>();
        queue.putNowait(undefined);
        queue.putNowait(null);
        expect(queue.size).to.equal(2);
        const items = [await queue.get(), await queue.get()];
        expect(items).to.have.members([undefined, null]);
      });

      it('rejects a bad maxsize, naming it', function () {
        expect(() => kind.create(-1)).to.throw(RangeError, /maxsize/);
        expect(() => kind.create(1.5)).to.throw(RangeError, /maxsize/);
        expect(() => kind.create(Number.NaN)).to.throw(RangeError, /maxsize/);
        expect(() => kind.create(Infinity)).to.throw(RangeError, /maxsize/);
        expect(() => kind.create('3' as unknown as number)).to.throw(TypeError, /maxsize/);
        expect(() => kind.create(null as unknown as number)).to.throw(TypeError, /maxsize/);
      });

      it('rejects a name that is not a string', function () {
        expect(() => kind.create(0, { name: 42 as unknown as string })).to.throw(TypeError, /name/);
      });

      it('describes itself with toString()', async function () {
        const queue = kind.create<number>(16, { name: 'jobs' });
        queue.putNowait(1);
        queue.putNowait(2);
        expect(String(queue)).to.equal(`${kind.name}(jobs)[size=2/16, getters=0, putters=0]`);
        expect(queue.name).to.equal('jobs');
        expect(kind.create<number>().name).to.equal(undefined);

        const small = kind.create<number>(1);
        small.putNowait(1);
        void small.put(2);
        expect(String(small)).to.equal(`${kind.name}[size=1/1, getters=0, putters=1]`);
        expect(small.waiting).to.equal(1);

        const unbounded = kind.create<number>(0, { name: 'in' });
        const gets = [unbounded.get(), unbounded.get()];
        expect(String(unbounded)).to.equal(`${kind.name}(in)[size=0, getters=2, putters=0]`);
        expect(unbounded.waiting).to.equal(2);
        unbounded.shutdown();
        expect(String(unbounded)).to.equal(`${kind.name}(in)[size=0, getters=0, putters=0, shut down]`);
        for (const get of gets) expect(await rejection(get)).to.be.instanceOf(QueueShutDownError);
      });
    });

    describe('get', function () {
      it('resolves at once when an item is there (test_blocking_get)', async function () {
        const queue = kind.create<number>();
        queue.putNowait(1);
        expect(await queue.get()).to.equal(1);
      });

      it('waits for an item (test_blocking_get_wait)', async function () {
        const queue = kind.create<number>();
        const events: string[] = [];
        setTimeout(() => {
          events.push('put');
          queue.putNowait(1);
        }, 10);
        record(events, 'get', queue.get());
        await flush();
        expect(queue.waitingGetters).to.equal(1);
        checkInvariants(queue);
        await clock.tickAsync(10);
        expect(events).to.deep.equal(['put', 'get:1']);
        expect(queue.size).to.equal(0);
      });

      it('hands an item straight to a waiting getter, never through the store (test_put_with_waiting_getters)', async function () {
        const queue = kind.create<string>(1);
        const events: string[] = [];
        record(events, 'get1', queue.get());
        record(events, 'get2', queue.get());
        await queue.put('a');
        expect(queue.size).to.equal(0);
        queue.putNowait('b');
        expect(queue.size).to.equal(0);
        await flush();
        expect(events).to.deep.equal(['get1:a', 'get2:b']);
      });

      it('serves waiting getters in FIFO order', async function () {
        const queue = kind.create<number>();
        const events: string[] = [];
        for (const name of ['a', 'b', 'c']) record(events, name, queue.get());
        queue.putNowait(1);
        queue.putNowait(2);
        queue.putNowait(3);
        await flush();
        expect(events).to.deep.equal(['a:1', 'b:2', 'c:3']);
      });

      it('getNowait throws QueueEmptyError on an empty queue (test_nonblocking_get_exception)', function () {
        const queue = kind.create<number>(0, { name: 'q' });
        expect(() => queue.getNowait()).to.throw(QueueEmptyError, `${kind.name}(q) is empty`);
        queue.putNowait(1);
        expect(queue.getNowait()).to.equal(1);
        expect(() => queue.getNowait()).to.throw(QueueEmptyError);
      });

      it('getNowait finds the queue empty while getters wait (no barging)', async function () {
        const queue = kind.create<number>();
        const events: string[] = [];
        record(events, 'get', queue.get());
        expect(() => queue.getNowait()).to.throw(QueueEmptyError);
        queue.putNowait(1);
        expect(() => queue.getNowait()).to.throw(QueueEmptyError);
        await flush();
        expect(events).to.deep.equal(['get:1']);
      });

      it('moves the head putter into a full queue (test_get_with_waiting_putters)', async function () {
        const queue = kind.create<number>(1);
        const events: string[] = [];
        record(events, 'put1', queue.put(1));
        record(events, 'put2', queue.put(2));
        record(events, 'put3', queue.put(3));
        await flush();
        expect(events).to.deep.equal(['put1:done']);
        checkInvariants(queue);
        const got: number[] = [];
        got.push(await queue.get());
        // The head putter's item entered the queue in the same step: the queue is full again.
        expect([queue.size, queue.waitingPutters]).to.deep.equal([1, 1]);
        checkInvariants(queue);
        got.push(queue.getNowait());
        got.push(await queue.get());
        await flush();
        expect(events).to.deep.equal(['put1:done', 'put2:done', 'put3:done']);
        expect(got).to.deep.equal([1, 2, 3]);
        expect(queue.empty).to.equal(true);
      });

      it('get({ timeout: 0 }) rejects with TimeoutError on an empty queue, and gets an item that is there', async function () {
        const queue = kind.create<number>(0, { name: 'q' });
        const error = await rejection(queue.get({ timeout: 0 }));
        expect(error).to.be.instanceOf(TimeoutError);
        expect((error as Error).name).to.equal('TimeoutError');
        expect(queue.waiting).to.equal(0);
        queue.putNowait(5);
        expect(await queue.get({ timeout: 0 })).to.equal(5);
      });

      it('times out, leaving no trace; a later item stays for the next getter', async function () {
        const queue = kind.create<number>(0, { name: 'q' });
        const events: string[] = [];
        record(events, 'get', queue.get({ timeout: 50 }));
        await clock.tickAsync(49);
        expect(events).to.deep.equal([]);
        await clock.tickAsync(1);
        expect(events).to.deep.equal(['get:TimeoutError']);
        expect(queue.waiting).to.equal(0);
        expect(clock.countTimers()).to.equal(0);
        queue.putNowait(7);
        expect(queue.size).to.equal(1);
        expect(await queue.get()).to.equal(7);
      });

      it('an item that arrives before the timeout wins, and the timer is cleared (test_get_cancelled)', async function () {
        const queue = kind.create<number>();
        const events: string[] = [];
        record(events, 'get', queue.get({ timeout: 51 }));
        setTimeout(() => queue.putNowait(1), 10);
        await clock.tickAsync(10);
        expect(events).to.deep.equal(['get:1']);
        expect(clock.countTimers()).to.equal(0);
        await clock.tickAsync(100);
        expect(events).to.deep.equal(['get:1']);
      });

      it('rejects with the signal reason when aborted while waiting', async function () {
        const queue = kind.create<number>();
        const controller = new AbortController();
        const reason = new Error('stop');
        const pending = queue.get({ signal: controller.signal });
        expect(queue.waitingGetters).to.equal(1);
        controller.abort(reason);
        expect(queue.waitingGetters).to.equal(0);
        expect(await rejection(pending)).to.equal(reason);
      });

      it('an already-aborted signal wins over an available item, which stays', async function () {
        const queue = kind.create<number>();
        queue.putNowait(1);
        const reason = new Error('early');
        expect(await rejection(queue.get({ signal: AbortSignal.abort(reason) }))).to.equal(reason);
        expect(queue.size).to.equal(1);
        queue.shutdown();
        expect(await rejection(queue.get({ signal: AbortSignal.abort(reason) }))).to.equal(reason);
      });

      it('a getter aborted before the put leaves the item to the next getter (test_get_cancelled_race)', async function () {
        const queue = kind.create<string>();
        const events: string[] = [];
        const controller = new AbortController();
        record(events, 'get1', queue.get({ signal: controller.signal }));
        record(events, 'get2', queue.get());
        controller.abort(new Error('cancelled'));
        queue.putNowait('a');
        await flush();
        expect(events).to.deep.equal(['get1:Error', 'get2:a']);
        expect(queue.size).to.equal(0);
      });

      it('a lone getter aborted in the same tick, before the put, leaves the item in the queue', async function () {
        const queue = kind.create<string>();
        const events: string[] = [];
        const controller = new AbortController();
        record(events, 'get', queue.get({ signal: controller.signal }));
        controller.abort(new Error('cancelled'));
        queue.putNowait('a');
        expect(queue.size).to.equal(1);
        await flush();
        expect(events).to.deep.equal(['get:Error']);
        expect(queue.getNowait()).to.equal('a');
      });

      it('grant wins: a getter aborted right after a put handed it the item still resolves with it', async function () {
        const queue = kind.create<string>();
        const controller = new AbortController();
        const timed = queue.get({ timeout: 5 });
        const aborted = queue.get({ signal: controller.signal });
        queue.putNowait('a');
        queue.putNowait('b');
        controller.abort(new Error('too late'));
        await clock.tickAsync(5);
        expect([await timed, await aborted]).to.deep.equal(['a', 'b']);
        expect(queue.size).to.equal(0);
        expect(clock.countTimers()).to.equal(0);
      });

      it('drops its abort listener and its timer as soon as it settles', async function () {
        const queue = kind.create<number>();
        const controller = new AbortController();
        const added = sinon.spy(controller.signal, 'addEventListener');
        const removed = sinon.spy(controller.signal, 'removeEventListener');
        const pending = queue.get({ signal: controller.signal, timeout: 1000 });
        expect([added.callCount, removed.callCount, clock.countTimers()]).to.deep.equal([1, 0, 1]);
        queue.putNowait(1);
        expect([added.callCount, removed.callCount, clock.countTimers()]).to.deep.equal([1, 1, 0]);
        expect(await pending).to.equal(1);
      });

      it('rejects bad options with TypeError/RangeError, before touching the queue', async function () {
        const queue = kind.create<number>();
        queue.putNowait(1);
        expect(await rejection(queue.get({ timeout: -1 }))).to.be.instanceOf(RangeError);
        expect(await rejection(queue.get({ timeout: 'x' as unknown as number }))).to.be.instanceOf(TypeError);
        expect(await rejection(queue.get({ signal: {} as AbortSignal }))).to.be.instanceOf(TypeError);
        expect(await rejection(queue.get(42 as unknown as object))).to.be.instanceOf(TypeError);
        expect(queue.size).to.equal(1);
      });
    });

    describe('put', function () {
      it('does not block on an unbounded queue (test_blocking_put)', async function () {
        const queue = kind.create<number>();
        for (let item = 0; item < 50; item++) await queue.put(item);
        expect(queue.size).to.equal(50);
        expect(queue.waiting).to.equal(0);
      });

      it('blocks while the queue is full (test_maxsize)', async function () {
        const queue = kind.create<number>(2);
        const model = kind.model();
        const havePut: number[] = [];
        const producer = (async () => {
          for (let item = 0; item < 3; item++) {
            await queue.put(item);
            havePut.push(item);
          }
        })();
        await flush();
        expect(havePut).to.deep.equal([0, 1]);
        expect(queue.waitingPutters).to.equal(1);
        checkInvariants(queue);
        model.put(0);
        model.put(1);
        expect(queue.getNowait()).to.equal(model.take());
        model.put(2);
        await flush();
        expect(havePut).to.deep.equal([0, 1, 2]);
        expect([queue.getNowait(), queue.getNowait()]).to.deep.equal([model.take(), model.take()]);
        await producer;
      });

      it('waits for room and resolves when a getter takes an item (test_blocking_put_wait)', async function () {
        const queue = kind.create<number>(1);
        const events: string[] = [];
        setTimeout(() => events.push(`took:${queue.getNowait()}`), 10);
        record(events, 'put1', queue.put(1));
        record(events, 'put2', queue.put(2));
        await flush();
        expect(events).to.deep.equal(['put1:done']);
        await clock.tickAsync(10);
        expect(events).to.deep.equal(['put1:done', 'took:1', 'put2:done']);
        expect(queue.getNowait()).to.equal(2);
      });

      it('putNowait throws QueueFullError on a full queue (test_nonblocking_put_exception)', function () {
        const queue = kind.create<number>(1, { name: 'q' });
        queue.putNowait(1);
        expect(() => queue.putNowait(2)).to.throw(QueueFullError, `${kind.name}(q) is full`);
        expect(queue.size).to.equal(1);
      });

      it('putNowait does not overtake waiting putters', async function () {
        const queue = kind.create<number>(1);
        queue.putNowait(1);
        const events: string[] = [];
        record(events, 'put2', queue.put(2));
        queue.getNowait();
        // put2 took the free slot in the same step.
        expect(() => queue.putNowait(3)).to.throw(QueueFullError);
        await flush();
        expect(events).to.deep.equal(['put2:done']);
        expect(queue.getNowait()).to.equal(2);
      });

      it('put({ timeout: 0 }) on a full queue rejects with TimeoutError at once', async function () {
        const queue = kind.create<number>(1);
        queue.putNowait(1);
        expect(await rejection(queue.put(2, { timeout: 0 }))).to.be.instanceOf(TimeoutError);
        expect(queue.waiting).to.equal(0);
        expect(queue.getNowait()).to.equal(1);
        expect(queue.empty).to.equal(true);
      });

      it('times out without inserting its item', async function () {
        const queue = kind.create<string>(1);
        queue.putNowait('a');
        const events: string[] = [];
        record(events, 'put', queue.put('x', { timeout: 20 }));
        await clock.tickAsync(19);
        expect(events).to.deep.equal([]);
        await clock.tickAsync(1);
        expect(events).to.deep.equal(['put:TimeoutError']);
        expect(queue.waitingPutters).to.equal(0);
        expect(queue.getNowait()).to.equal('a');
        expect(queue.empty).to.equal(true);
        expect(clock.countTimers()).to.equal(0);
      });

      it('a cancelled putter never inserts its item (test_put_cancelled_race)', async function () {
        const queue = kind.create<string>(1);
        const events: string[] = [];
        const controller = new AbortController();
        record(events, 'a', queue.put('a'));
        record(events, 'b', queue.put('b'));
        record(events, 'X', queue.put('X', { signal: controller.signal }));
        await flush();
        expect(events).to.deep.equal(['a:done']);
        controller.abort(new Error('cancelled'));
        expect(queue.waitingPutters).to.equal(1);
        await flush();
        expect(events).to.deep.equal(['a:done', 'X:Error']);
        expect(queue.getNowait()).to.equal('a');
        expect(queue.getNowait()).to.equal('b');
        expect(() => queue.getNowait()).to.throw(QueueEmptyError);
        await flush();
        expect(events).to.deep.equal(['a:done', 'X:Error', 'b:done']);
      });

      it('grant wins: a putter aborted right after a get admitted its item still resolves', async function () {
        const queue = kind.create<string>(1);
        queue.putNowait('a');
        const controller = new AbortController();
        const put = queue.put('b', { signal: controller.signal });
        expect(queue.getNowait()).to.equal('a');
        controller.abort(new Error('too late'));
        await put;
        expect(queue.getNowait()).to.equal('b');
      });

      it('an already-aborted signal rejects before the put touches the queue', async function () {
        const queue = kind.create<number>();
        const reason = new Error('early');
        expect(await rejection(queue.put(1, { signal: AbortSignal.abort(reason) }))).to.equal(reason);
        expect(queue.size).to.equal(0);
        queue.shutdown();
        expect(await rejection(queue.put(1, { signal: AbortSignal.abort(reason) }))).to.equal(reason);
      });

      it('rejects bad options with TypeError/RangeError without inserting the item', async function () {
        const queue = kind.create<number>();
        expect(await rejection(queue.put(1, { timeout: -5 }))).to.be.instanceOf(RangeError);
        expect(await rejection(queue.put(1, { timeout: Number.NaN }))).to.be.instanceOf(RangeError);
        expect(await rejection(queue.put(1, { signal: 'x' as unknown as AbortSignal }))).to.be.instanceOf(
          TypeError,
        );
        expect(queue.size).to.equal(0);
        const error = await rejection(queue.put(1, { timeout: -5 }));
        expect((error as Error).message).to.include('timeout');
      });
    });

    describe('taskDone and join', function () {
      it('taskDone throws RangeError when called more times than items were put (test_task_done_underflow)', function () {
        const queue = kind.create<number>();
        expect(() => queue.taskDone()).to.throw(RangeError, /taskDone/);
        queue.putNowait(1);
        queue.getNowait();
        queue.taskDone();
        expect(() => queue.taskDone()).to.throw(RangeError);
      });

      it('join resolves at once on a fresh queue, twice (test_join_empty_queue)', async function () {
        const queue = kind.create<number>();
        await queue.join();
        await queue.join();
      });

      it('join waits until every item is marked done by the workers (test_task_done)', async function () {
        const queue = kind.create<number>();
        for (let item = 0; item < 100; item++) queue.putNowait(item);
        let total = 0;
        const worker = async (): Promise<void> => {
          for await (const item of queue) {
            total += item;
            await Promise.resolve();
            queue.taskDone();
          }
        };
        const workers = [worker(), worker()];
        await queue.join();
        expect(total).to.equal(4950);
        queue.shutdown();
        await Promise.all(workers);
      });

      it('join waits for taskDone, not for get', async function () {
        const queue = kind.create<number>();
        const events: string[] = [];
        queue.putNowait(1);
        queue.putNowait(2);
        record(events, 'join', queue.join());
        queue.getNowait();
        queue.getNowait();
        await flush();
        expect(events).to.deep.equal([]);
        queue.taskDone();
        await flush();
        expect(events).to.deep.equal([]);
        queue.taskDone();
        await flush();
        expect(events).to.deep.equal(['join:done']);
      });

      it('counts an item handed to a waiting getter and an admitted putter item', async function () {
        const queue = kind.create<number>(1);
        const events: string[] = [];
        const got = queue.get();
        await queue.put(1);
        expect(await got).to.equal(1);
        queue.putNowait(2);
        void queue.put(3);
        record(events, 'join', queue.join());
        queue.getNowait();
        queue.getNowait();
        queue.taskDone();
        queue.taskDone();
        await flush();
        expect(events).to.deep.equal([]);
        queue.taskDone();
        await flush();
        expect(events).to.deep.equal(['join:done']);
        expect(() => queue.taskDone()).to.throw(RangeError);
      });

      it('join honours timeout and signal', async function () {
        const queue = kind.create<number>();
        queue.putNowait(1);
        const events: string[] = [];
        const controller = new AbortController();
        record(events, 'timed', queue.join({ timeout: 30 }));
        record(events, 'aborted', queue.join({ signal: controller.signal }));
        controller.abort(new TypeError('stop'));
        await clock.tickAsync(30);
        expect(events).to.deep.equal(['aborted:TypeError', 'timed:TimeoutError']);
        expect(await rejection(queue.join({ timeout: -1 }))).to.be.instanceOf(RangeError);
        expect(clock.countTimers()).to.equal(0);
      });
    });

    describe('shutdown', function () {
      it('refuses an immediate that is not a boolean, and shuts nothing down', async function () {
        const queue = kind.create<number>(0, { name: 'q' });
        queue.putNowait(1);
        for (const bad of ['no', 1, null, {}]) {
          expect(() => queue.shutdown(bad as never)).to.throw(
            TypeError,
            `${kind.name}(q).shutdown: immediate must be a boolean`,
          );
        }
        expect(queue.isShutDown).to.equal(false);
        expect(queue.size).to.equal(1);
        queue.shutdown(false);
        expect(queue.getNowait()).to.equal(1);
      });

      it('on an empty queue: put, putNowait, get and getNowait all fail (test_shutdown_empty)', async function () {
        const queue = kind.create<number>(0, { name: 'q' });
        queue.shutdown();
        expect(queue.isShutDown).to.equal(true);
        const putError = await rejection(queue.put(1));
        expect(putError).to.be.instanceOf(QueueShutDownError);
        expect((putError as Error).message).to.include(`${kind.name}(q)`);
        expect(() => queue.putNowait(1)).to.throw(QueueShutDownError);
        expect(await rejection(queue.get())).to.be.instanceOf(QueueShutDownError);
        expect(() => queue.getNowait()).to.throw(QueueShutDownError);
        expect(queue.size).to.equal(0);
      });

      it('lets the items left be drained, then fails (test_shutdown_nonempty)', async function () {
        const queue = kind.create<number>();
        const model = kind.model();
        for (const item of [4, 1, 3]) {
          queue.putNowait(item);
          model.put(item);
        }
        queue.shutdown();
        expect(await rejection(queue.put(9))).to.be.instanceOf(QueueShutDownError);
        expect(await queue.get()).to.equal(model.take());
        expect(queue.getNowait()).to.equal(model.take());
        expect(await queue.get({ timeout: 0 })).to.equal(model.take());
        expect(await rejection(queue.get())).to.be.instanceOf(QueueShutDownError);
        expect(() => queue.getNowait()).to.throw(QueueShutDownError);
      });

      it('rejects blocked getters, in order (test_shutdown_getter)', async function () {
        const queue = kind.create<number>();
        const events: string[] = [];
        record(events, 'get1', queue.get());
        record(events, 'get2', queue.get({ timeout: 100 }));
        queue.shutdown();
        expect(queue.waiting).to.equal(0);
        expect(clock.countTimers()).to.equal(0);
        await flush();
        expect(events).to.deep.equal(['get1:QueueShutDownError', 'get2:QueueShutDownError']);
      });

      it('rejects blocked putters without inserting their items (test_shutdown_putter)', async function () {
        const queue = kind.create<number>(1);
        queue.putNowait(1);
        const events: string[] = [];
        record(events, 'put2', queue.put(2));
        record(events, 'put3', queue.put(3));
        queue.shutdown();
        expect(queue.waiting).to.equal(0);
        await flush();
        expect(events).to.deep.equal(['put2:QueueShutDownError', 'put3:QueueShutDownError']);
        expect(queue.getNowait()).to.equal(1);
        expect(() => queue.getNowait()).to.throw(QueueShutDownError);
      });

      it('does not release joiners unless the work is done (test_shutdown_get_task_done_join)', async function () {
        const queue = kind.create<number>(2);
        queue.putNowait(1);
        queue.putNowait(2);
        const events: string[] = [];
        record(events, 'join', queue.join());
        queue.shutdown();
        await flush();
        expect(events).to.deep.equal([]);
        queue.getNowait();
        queue.taskDone();
        queue.getNowait();
        await flush();
        expect(events).to.deep.equal([]);
        queue.taskDone();
        await flush();
        expect(events).to.deep.equal(['join:done']);
      });

      it('immediate: drops the items left and counts them done (test_shutdown_immediate)', async function () {
        const queue = kind.create<number>();
        queue.putNowait(1);
        queue.putNowait(2);
        const events: string[] = [];
        record(events, 'join', queue.join());
        queue.shutdown(true);
        expect(queue.size).to.equal(0);
        await flush();
        expect(events).to.deep.equal(['join:done']);
        expect(await rejection(queue.get())).to.be.instanceOf(QueueShutDownError);
        expect(() => queue.getNowait()).to.throw(QueueShutDownError);
        expect(await rejection(queue.put(3))).to.be.instanceOf(QueueShutDownError);
        expect(() => queue.taskDone()).to.throw(RangeError);
      });

      it('immediate: join still waits for the items already taken (test_shutdown_immediate_with_unfinished)', async function () {
        const queue = kind.create<number>();
        queue.putNowait(1);
        queue.putNowait(2);
        queue.putNowait(3);
        queue.getNowait();
        const events: string[] = [];
        record(events, 'join', queue.join());
        queue.shutdown(true);
        await flush();
        expect(events).to.deep.equal([]);
        queue.taskDone();
        await flush();
        expect(events).to.deep.equal(['join:done']);
        expect(() => queue.taskDone()).to.throw(RangeError);
      });

      it('immediate: releases blocked getters, putters and joiners', async function () {
        const getters = kind.create<number>();
        const full = kind.create<number>(1);
        full.putNowait(1);
        const events: string[] = [];
        record(events, 'get', getters.get());
        record(events, 'put', full.put(2));
        record(events, 'join', full.join());
        getters.shutdown(true);
        full.shutdown(true);
        await flush();
        // As in Python: the drop releases the joiners before the blocked putters are rejected.
        expect(events).to.deep.equal(['get:QueueShutDownError', 'join:done', 'put:QueueShutDownError']);
        expect(full.size).to.equal(0);
      });

      it('immediate after a plain shutdown drops what was left', async function () {
        const queue = kind.create<number>();
        queue.putNowait(1);
        queue.putNowait(2);
        queue.shutdown();
        queue.shutdown();
        expect(queue.size).to.equal(2);
        queue.shutdown(true);
        expect(queue.size).to.equal(0);
        await queue.join();
      });
    });

    describe('async iteration', function () {
      it('yields the items until shut down and drained, then ends', async function () {
        const queue = kind.create<number>(3);
        const model = kind.model();
        const got: number[] = [];
        const consumer = (async () => {
          for await (const item of queue) got.push(item);
          got.push(-1);
        })();
        for (const item of [5, 2, 8, 1]) {
          await queue.put(item);
          await flush();
        }
        expect(got).to.deep.equal([5, 2, 8, 1]);
        // The consumer waits, so 3 is handed to it; 6 and 4 are stored and drained in the queue's order.
        expect(queue.waitingGetters).to.equal(1);
        queue.putNowait(3);
        queue.putNowait(6);
        queue.putNowait(4);
        model.put(6);
        model.put(4);
        queue.shutdown();
        await consumer;
        expect(got).to.deep.equal([5, 2, 8, 1, 3, model.take(), model.take(), -1]);
      });

      it('ends a loop that waits on an empty queue when it is shut down', async function () {
        const queue = kind.create<number>();
        const events: string[] = [];
        const consumer = (async () => {
          for await (const item of queue) events.push(`item:${item}`);
          events.push('end');
        })();
        await flush();
        expect(queue.waitingGetters).to.equal(1);
        queue.putNowait(1);
        await flush();
        queue.shutdown();
        await consumer;
        expect(events).to.deep.equal(['item:1', 'end']);
      });

      it('does not call taskDone', async function () {
        const queue = kind.create<number>();
        queue.putNowait(1);
        queue.putNowait(2);
        queue.shutdown();
        const got: number[] = [];
        for await (const item of queue) got.push(item);
        expect(got).to.have.length(2);
        const events: string[] = [];
        record(events, 'join', queue.join());
        await flush();
        expect(events).to.deep.equal([]);
        queue.taskDone();
        queue.taskDone();
        await flush();
        expect(events).to.deep.equal(['join:done']);
      });

      it('takes no further item after break', async function () {
        const queue = kind.create<number>();
        queue.putNowait(1);
        queue.putNowait(2);
        for await (const item of queue) {
          void item;
          break;
        }
        expect(queue.size).to.equal(1);
        expect(queue.waiting).to.equal(0);
      });
    });
  });
}

describe('AsyncQueue', function () {
  it('its ring shrinks once mostly empty after a burst, keeping the items in order', function () {
    const queue = new AsyncQueue<number>();
    const slots = () => (queue as unknown as { items: { capacity: number } }).items.capacity;
    for (let index = 0; index < 100_000; index++) queue.putNowait(index);
    expect(slots()).to.equal(131_072);
    for (let index = 0; index < 99_990; index++) expect(queue.getNowait()).to.equal(index);
    expect(slots()).to.equal(64);
    for (let index = 99_990; index < 100_000; index++) expect(queue.getNowait()).to.equal(index);
    expect(slots()).to.equal(64);
    queue.putNowait(1);
    queue.shutdown(true);
    expect(slots()).to.equal(0);
  });

  useFakeClock();

  it('serves items first in, first out', function () {
    const queue = new AsyncQueue<number>();
    for (const item of [1, 3, 2]) queue.putNowait(item);
    expect([queue.getNowait(), queue.getNowait(), queue.getNowait()]).to.deep.equal([1, 3, 2]);
  });

  it('keeps FIFO order at capacity 16 through many wrap-arounds', async function () {
    const queue = new AsyncQueue<number>(16);
    const got: number[] = [];
    const consumer = (async () => {
      for await (const item of queue) got.push(item);
    })();
    for (let item = 0; item < 1000; item++) {
      await queue.put(item);
      checkInvariants(queue);
    }
    queue.shutdown();
    await consumer;
    expect(got).to.deep.equal(Array.from({ length: 1000 }, (_, index) => index));
  });

  it('adopts a thenable item in get, as any promise does (documented)', async function () {
    const queue = new AsyncQueue<unknown>();
    queue.putNowait({ then: (resolve: (value: number) => void) => resolve(42) });
    expect(await queue.get()).to.equal(42);
  });
});

describe('AsyncLifoQueue', function () {
  useFakeClock();

  it('serves the last item put first (test_order)', function () {
    const queue = new AsyncLifoQueue<number>();
    for (const item of [1, 3, 2]) queue.putNowait(item);
    expect([queue.getNowait(), queue.getNowait(), queue.getNowait()]).to.deep.equal([2, 3, 1]);
  });

  it('puts an admitted putter item on top', async function () {
    const queue = new AsyncLifoQueue<number>(2);
    queue.putNowait(1);
    queue.putNowait(2);
    const put = queue.put(3);
    expect(queue.getNowait()).to.equal(2);
    await put;
    expect([queue.getNowait(), queue.getNowait()]).to.deep.equal([3, 1]);
  });
});

describe('AsyncPriorityQueue', function () {
  useFakeClock();

  it('serves the smallest item first (test_order)', function () {
    const queue = new AsyncPriorityQueue<number>();
    for (const item of [1, 3, 2]) queue.putNowait(item);
    expect([queue.getNowait(), queue.getNowait(), queue.getNowait()]).to.deep.equal([1, 2, 3]);
  });

  it('orders strings naturally by default', function () {
    const queue = new AsyncPriorityQueue<string>();
    for (const item of ['pear', 'apple', 'fig']) queue.putNowait(item);
    expect([queue.getNowait(), queue.getNowait(), queue.getNowait()]).to.deep.equal(['apple', 'fig', 'pear']);
  });

  it('serves equal items in the order they were put (stable)', function () {
    const queue = new AsyncPriorityQueue<{ priority: number; id: string }>(0, {
      compare: (a, b) => a.priority - b.priority,
    });
    for (const [priority, id] of [
      [1, 'a'],
      [0, 'b'],
      [1, 'c'],
      [0, 'd'],
      [2, 'e'],
      [1, 'f'],
    ] as const) {
      queue.putNowait({ priority, id });
    }
    const ids: string[] = [];
    while (!queue.empty) ids.push(queue.getNowait().id);
    expect(ids).to.deep.equal(['b', 'd', 'a', 'c', 'f', 'e']);
  });

  it('matches a stable sort on many items with few distinct priorities, with interleaved gets', function () {
    const queue = new AsyncPriorityQueue<[number, number]>(0, { compare: (a, b) => a[0] - b[0] });
    const reference: [number, number][] = [];
    const got: [number, number][] = [];
    const expected: [number, number][] = [];
    let seed = 12345;
    for (let index = 0; index < 600; index++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const item: [number, number] = [seed % 4, index];
      queue.putNowait(item);
      reference.push(item);
      if (index % 3 === 2) {
        reference.sort((a, b) => a[0] - b[0]);
        got.push(queue.getNowait());
        expected.push(reference.shift() as [number, number]);
      }
    }
    reference.sort((a, b) => a[0] - b[0]);
    while (!queue.empty) got.push(queue.getNowait());
    expect(got).to.deep.equal([...expected, ...reference]);
  });

  it('ranks a blocked putter item when it enters the queue', async function () {
    const queue = new AsyncPriorityQueue<number>(2);
    queue.putNowait(5);
    queue.putNowait(3);
    const put = queue.put(1);
    expect(queue.getNowait()).to.equal(3);
    await put;
    expect([queue.getNowait(), queue.getNowait()]).to.deep.equal([1, 5]);
  });

  it('rejects a compare that is not a function, naming it', function () {
    expect(() => new AsyncPriorityQueue(0, { compare: 1 as unknown as () => number })).to.throw(
      TypeError,
      /compare/,
    );
    expect(() => new AsyncPriorityQueue(0, { compare: null as unknown as () => number })).to.throw(
      TypeError,
      /compare/,
    );
    expect(() => new AsyncPriorityQueue(-1, { compare: (a: number, b: number) => a - b })).to.throw(
      RangeError,
      /maxsize/,
    );
  });

  it('loses no item when compare throws: the put fails, the get fails, the items stay', async function () {
    let broken = false;
    const queue = new AsyncPriorityQueue<number>(0, {
      compare: (a, b) => {
        if (broken) throw new Error('compare failed');
        return a - b;
      },
    });
    for (const item of [4, 2, 6, 1, 5]) queue.putNowait(item);
    broken = true;
    expect(() => queue.putNowait(0)).to.throw('compare failed');
    expect((await rejection(queue.put(0))) as Error).to.have.property('message', 'compare failed');
    expect(() => queue.getNowait()).to.throw('compare failed');
    expect((await rejection(queue.get())) as Error).to.have.property('message', 'compare failed');
    expect(queue.size).to.equal(5);
    broken = false;
    const items: number[] = [];
    while (!queue.empty) items.push(queue.getNowait());
    expect(items).to.deep.equal([1, 2, 4, 5, 6]);
  });

  it('rejects a blocked putter whose item compare refuses, and admits the next one', async function () {
    const queue = new AsyncPriorityQueue<number>(2, {
      compare: (a, b) => {
        if (a === 99 || b === 99) throw new Error('no 99');
        return a - b;
      },
    });
    queue.putNowait(1);
    queue.putNowait(3);
    const events: string[] = [];
    record(events, 'put99', queue.put(99));
    record(events, 'put2', queue.put(2));
    expect(queue.getNowait()).to.equal(1);
    expect([queue.size, queue.waitingPutters]).to.deep.equal([2, 0]);
    await flush();
    expect(events).to.deep.equal(['put99:Error', 'put2:done']);
    expect([queue.getNowait(), queue.getNowait()]).to.deep.equal([2, 3]);
    // Three items were placed (1, 3, 2): the refused 99 is not counted.
    for (let done = 0; done < 3; done++) queue.taskDone();
    expect(() => queue.taskDone()).to.throw(RangeError);
  });
});
