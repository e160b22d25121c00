/**
 * Node-only facts about tasks: the timers of daemon tasks do not keep the process alive.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TaskGroup, sleep, waitUntil } from '../lib/index.js';
import { flush, yieldTurns } from './suites/helpers.js';

/** Timers that keep the event loop alive (unref'd ones are not listed). */
function liveTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

/**
 * The live timers once the test has started waiting: mocha arms its own timeout timer only when the test function
 * returns its promise, so the count is taken after a first turn of the event loop.
 */
async function baseline(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  return liveTimers();
}

const hour = 3_600_000;

describe('TaskGroup in Node', () => {
  /** Stopped after each test, so that a failed assertion does not leave hour-long timers keeping mocha alive. */
  let groups: TaskGroup[] = [];
  const newGroup = () => {
    const group = new TaskGroup();
    groups.push(group);
    return group;
  };
  afterEach(() => {
    for (const group of groups) group.abort();
    groups = [];
  });

  it('a process that awaits a daemon (its join, or a disposal waiting for its cleanup) stays alive until it is done', async function () {
    this.timeout(30_000);
    const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const fixture = fileURLToPath(new URL(`./fixtures/join-daemon.${extension}`, import.meta.url));
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', fixture],
        { timeout: 20_000, killSignal: 'SIGKILL' },
        (error, out, err) =>
          resolve({ code: error ? ((error.code as number | null) ?? null) : 0, stdout: out, stderr: err }),
      );
    });
    expect(stderr).to.equal('');
    expect(stdout).to.equal('daemon result\ndaemon cleaned up\nafter the block\n');
    expect(code).to.equal(0);
  });

  it('a process whose daemon tasks sleep and poll for an hour exits on its own once its worker is done', async function () {
    this.timeout(30_000);
    // Run as TypeScript through tsx, or as the compiled .js next to this file (npm run coverage).
    const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const fixture = fileURLToPath(new URL(`./fixtures/daemon-timers.${extension}`, import.meta.url));
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      // The kill timeout only guards against a hung child; the assertions are on what the child printed.
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', fixture],
        { timeout: 20_000, killSignal: 'SIGKILL' },
        (error, out, err) =>
          resolve({ code: error ? ((error.code as number | null) ?? null) : 0, stdout: out, stderr: err }),
      );
      child.stdin?.end();
    });
    expect(stderr).to.equal('');
    expect(stdout).to.equal('worker done\nexit 0: TaskGroup(main)[running=0, daemons=4]\n');
    expect(code).to.equal(0);
  });

  it('a daemon’s sleep holds no live timer; a worker’s does', async () => {
    const group = newGroup();
    const before = await baseline();
    group.spawn(async (signal) => sleep(hour, { signal }), { daemon: true });
    await flush();
    expect(liveTimers()).to.equal(before);
    group.spawn(async (signal) => sleep(hour, { signal }));
    await flush();
    expect(liveTimers()).to.equal(before + 1);
    group.abort();
    await group.join();
    expect(liveTimers()).to.equal(before);
  });

  it('a daemon’s waitUntil polls and times out without live timers', async () => {
    const group = newGroup();
    const before = await baseline();
    const daemon = group.spawn(
      async (signal) => waitUntil(() => false, { interval: hour, timeout: 2 * hour, signal }),
      { daemon: true },
    );
    await flush();
    expect(liveTimers()).to.equal(before);
    const worker = group.spawn(async (signal) =>
      waitUntil(() => false, { interval: hour, timeout: 2 * hour, signal }),
    );
    await flush();
    expect(liveTimers()).to.equal(before + 2);
    group.abort();
    await group.join();
    await rejectionOfTask(daemon.join());
    await rejectionOfTask(worker.join());
    expect(liveTimers()).to.equal(before);
  });

  it('the daemon context follows the task across awaits and helpers; a task it spawns has its own', async () => {
    const group = newGroup();
    const before = await baseline();
    const nap = (signal: AbortSignal) => sleep(hour, { signal });
    group.spawn(
      async (signal) => {
        await new Promise((resolve) => setImmediate(resolve));
        await yieldTurns(3);
        group.spawn(async (child) => nap(child), { name: 'worker spawned by a daemon' });
        await nap(signal);
      },
      { daemon: true },
    );
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve)); // after the daemon's
    await flush();
    expect(group.running).to.equal(1);
    expect(group.daemons).to.equal(1);
    expect(liveTimers()).to.equal(before + 1); // the worker's only
    group.abort();
    await group.join();
  });

  it('a sleep outside any task keeps its timer live', async () => {
    const before = await baseline();
    const controller = new AbortController();
    const slept = sleep(hour, { signal: controller.signal }).catch(() => 'aborted');
    expect(liveTimers()).to.equal(before + 1);
    controller.abort();
    expect(await slept).to.equal('aborted');
    expect(liveTimers()).to.equal(before);
  });
});

async function rejectionOfTask(promise: Promise<unknown>): Promise<void> {
  await promise.then(
    () => expect.fail('expected the task to be aborted'),
    () => undefined,
  );
}
