import { expect } from 'chai';
import { main as oddEvenThreads } from '../../examples/odd-even-threads.js';

describe('examples/odd-even-threads.ts', function () {
  this.timeout(30_000);

  it('two worker threads sharing a SharedCondition print 1..10 in strict turns (one blocks, one awaits)', async () => {
    const lines: string[] = [];
    await oddEvenThreads((line) => lines.push(line));
    expect(lines).to.deep.equal([
      'odd  1',
      'even 2',
      'odd  3',
      'even 4',
      'odd  5',
      'even 6',
      'odd  7',
      'even 8',
      'odd  9',
      'even 10',
      'SharedLock(turn)[unlocked, waiting=0] SharedCondition(turn)[waiting=0]',
    ]);
  });
});
