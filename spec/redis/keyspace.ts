import { expect } from 'chai';
import type { TestClient } from './helpers.js';

/**
 * Asserts that the keyspace holds only fencing counters: keys without the package's `:holders`, `:queue`,
 * `:alive` or `:tokens` suffix, each an integer string with no expiry.
 */
export async function expectOnlyCounters(client: TestClient): Promise<void> {
  const keys = ((await client.command('KEYS', '*')) as string[]).map(String).sort();
  const state = keys.filter((key) => /:(holders|queue|alive|tokens)$/.test(key));
  expect(state, 'state keys left behind').to.deep.equal([]);
  for (const key of keys) {
    expect(String(await client.command('GET', key)), key).to.match(/^[1-9]\d*$/);
    expect(Number(await client.command('PTTL', key)), key).to.equal(-1);
  }
}
