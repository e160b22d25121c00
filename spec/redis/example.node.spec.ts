import { expect } from 'chai';
import { main } from '../../examples/redis-fencing.js';

describe('examples/redis-fencing.ts (real redis-server)', function () {
  this.timeout(20_000);

  it("refuses the stale holder's late write by its fencing token", async () => {
    const lines: string[] = [];
    await main((line) => lines.push(line));
    expect(lines).to.deep.equal([
      'A holds the lock with token 1 and sends its write',
      "A's network stalls: its renewals no longer reach Redis",
      "B holds the lock with token 2 (A's lease expired on the server)",
      'B writes with token 2: accepted',
      "A's write arrives late with token 1: refused (newest token seen: 2)",
      "A's lease.lost.aborted: true",
      'invoice:42 = "B"',
    ]);
  });
});
