/**
 * examples/retry-after.ts: a client behind a strict AsyncRateLimiter against a fake API that answers 429 with
 * Retry-After. Its output for the default seed, the same on every run, and the same outcome for other seeds.
 */
import { expect } from 'chai';
import sinon from 'sinon';
import { main } from '../examples/retry-after.js';

async function output(seed?: number): Promise<string[]> {
  const lines: string[] = [];
  await main((line) => lines.push(line), seed === undefined ? {} : { seed });
  return lines;
}

describe('examples/retry-after', () => {
  // The example runs in a Simulation; with the real clock faked (and never advanced), a timer that escaped the
  // harness would hang it instead of passing by luck.
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => {
    clock.restore();
  });

  it('pauses for Retry-After after each 429, sends nothing during a pause, and finishes every job', async () => {
    const expected = [
      'The client allows itself 5 requests a second (strict); the server allows 4 in each fixed second.',
      ' 50ms  job 9  sent at 0 ms: 429, Retry-After: 1; pause, retry (AsyncRateLimiter(api)[available=0, waiting=5, paused])',
      ' 50ms  job 1  sent at 0 ms: 200',
      ' 50ms  job 6  sent at 0 ms: 200',
      ' 50ms  job 7  sent at 0 ms: 200',
      ' 50ms  job 10 sent at 0 ms: 200',
      '1100ms  job 8  sent at 1050 ms: 200',
      '1100ms  job 5  sent at 1050 ms: 200',
      '1100ms  job 4  sent at 1050 ms: 429, Retry-After: 1; pause, retry (AsyncRateLimiter(api)[available=0, waiting=1, paused])',
      '1100ms  job 3  sent at 1050 ms: 200',
      '1100ms  job 2  sent at 1050 ms: 200',
      '2150ms  job 9  sent at 2100 ms: 200',
      '2150ms  job 4  sent at 2100 ms: 200',
      '10 jobs done by 2150 ms; 2 answers were 429; no request was sent during a pause',
    ];
    expect(await output()).to.deep.equal(expected);
    expect(await output()).to.deep.equal(expected); // deterministic: the same run again
  });

  it('whatever the schedule (seeds 1-10): two 429s, done by 2150 ms, never a request during a pause', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const lines = await output(seed);
      expect(lines.at(-1), `seed ${seed}`).to.equal(
        '10 jobs done by 2150 ms; 2 answers were 429; no request was sent during a pause',
      );
      expect(lines.filter((line) => line.includes(': 200')).length).to.equal(10);
    }
  });
});
