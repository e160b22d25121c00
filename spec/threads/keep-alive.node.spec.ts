/**
 * Node 20 does not count a pending `Atomics.waitAsync` as work that keeps the process alive: a waiting acquire
 * must keep it alive anyway, and one that settled must not. Each case runs in a child process.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../fixtures/project-root.js';

const script = join(projectRoot(), 'spec', 'threads', 'fixtures', 'keep-alive.ts');
const children = new Set<ChildProcess>();

/** Runs the fixture with `mode`; resolves with its exit code and output once it exits by itself. */
function runChild(mode: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      children.delete(child);
      resolve({ code, output });
    });
  });
}

describe('threads: a Node process stays alive while an acquire waits, and only then', function () {
  this.timeout(30_000);
  afterEach(() => {
    for (const child of children) child.kill();
  });

  it('a pending acquire, waiting for another thread, keeps the process alive until it is granted', async () => {
    expect(await runChild('waiting')).to.deep.equal({ code: 0, output: 'acquired\n' });
  });

  it('acquires that were granted, aborted or timed out leave nothing that keeps the process alive', async () => {
    // Were a keep-alive handle left behind, the child would never exit and this test would time out.
    expect(await runChild('settled')).to.deep.equal({ code: 0, output: 'done\n' });
  });
});
