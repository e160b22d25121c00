/**
 * `npx tsx examples/plain-deposits.ts`: a plain program (no harness, the real event loop), copyable as it is.
 * Three deposits each read the balance, await, and write it back. Without a lock they interleave at the `await`
 * and two of the three updates are lost; with an `AsyncLock` around the read-modify-write, none is.
 */
import { AsyncLock } from 'coop-sync';

/** Some I/O between the read and the write: a query, a fetch. */
const io = () => new Promise((resolve) => setTimeout(resolve, 5));

let balance = 0;
async function unsafeDeposit(amount: number): Promise<void> {
  const current = balance;
  await io(); // the other deposits run here, and read the same balance
  balance = current + amount;
}
await Promise.all([unsafeDeposit(10), unsafeDeposit(20), unsafeDeposit(30)]);
console.log(`without a lock: ${balance} (expected 60)`);

balance = 0;
const lock = new AsyncLock({ name: 'balance' });
async function deposit(amount: number): Promise<void> {
  await lock.run(async () => {
    const current = balance;
    await io(); // the other deposits wait for the lock
    balance = current + amount;
  });
}
await Promise.all([deposit(10), deposit(20), deposit(30)]);
console.log(`with a lock:    ${balance}`);
