/**
 * A client behind an AsyncRateLimiter calls an API that answers `429 Too Many Requests` with `Retry-After`. The
 * client believes in 5 requests a second (a strict window); the server really allows 4 in each fixed second. So the
 * fifth request of a second gets a 429: the client pauses the limiter for the `Retry-After` seconds (`pauseFor`),
 * which holds back every queued request, and retries. Every job succeeds, the server sees no request during a pause,
 * and the limiter keeps one timer the whole time. The server is a fake in the same process (50 ms per answer, in
 * the virtual time of a `Simulation` of `coop-sync/testing`), so the run is the same for the same seed.
 */
import { AsyncRateLimiter } from 'coop-sync';
import type { Simulation } from 'coop-sync/testing';
import { at, runMain, simulation, type ExampleOptions, type Print } from './run-main.js';

interface Response {
  readonly status: 200 | 429;
  /** Whole seconds to wait, on a 429 (as the HTTP header says it). */
  readonly retryAfter?: number;
}

/** An API with a quota of `quota` requests in each fixed window of `window` ms, counted on arrival. */
class FakeApi {
  private windowStart = 0;
  private count = 0;
  /** Every arrival time, to check the client against its pauses. */
  readonly arrivals: number[] = [];

  constructor(
    private readonly sim: Simulation,
    private readonly quota: number,
    private readonly window: number,
  ) {}

  async request(): Promise<Response> {
    const now = this.sim.now;
    this.arrivals.push(now);
    const start = now - (now % this.window);
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.count = 0;
    }
    const accepted = ++this.count <= this.quota;
    await this.sim.sleep(50); // the answer takes 50 ms to come back
    if (accepted) return { status: 200 };
    return { status: 429, retryAfter: Math.ceil((start + this.window - now) / 1000) };
  }
}

export async function main(print: Print = console.log, options: ExampleOptions = {}): Promise<void> {
  const sim = simulation(options);
  const api = new FakeApi(sim, 4, 1000);
  const limiter = new AsyncRateLimiter({ limit: 5, interval: 1000, strict: true, name: 'api' });
  const pauses: [number, number][] = [];
  let rejected = 0;
  let done = 0;
  print('The client allows itself 5 requests a second (strict); the server allows 4 in each fixed second.');

  for (let job = 1; job <= 10; job++) {
    const name = `job ${job}`.padEnd(6);
    sim.spawn(`job ${job}`, async () => {
      for (;;) {
        await limiter.acquire();
        const sent = sim.now;
        const response = await api.request();
        if (response.status === 200) {
          print(`${at(sim)}  ${name} sent at ${sent} ms: 200`);
          done++;
          return;
        }
        rejected++;
        const ms = response.retryAfter! * 1000;
        limiter.pauseFor(ms);
        pauses.push([sim.now, sim.now + ms]);
        print(
          `${at(sim)}  ${name} sent at ${sent} ms: 429, Retry-After: ${response.retryAfter}; pause, retry (${limiter})`,
        );
      }
    });
  }
  await sim.run();

  const early = api.arrivals.filter((time) => pauses.some(([from, to]) => time >= from && time < to));
  if (early.length > 0) throw new Error(`requests sent during a pause, at ${early.join(', ')} ms`);
  print(
    `${done} jobs done by ${sim.now} ms; ${rejected} answers were 429; no request was sent during a pause`,
  );
}

runMain(import.meta.url, main);
