import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundOrder } from '../../bench/lib/order.js';

// The ceiling's targets as the bench lists them: three references, then the three /users/me rows.
const TARGETS = ['F+plugins', 'F bare', 'Express bare', 'session', 'API key', 'JWT'];

describe('the ceiling rounds’ order', () => {
  it('measures every target once a round, in an order that is the same in every run', () => {
    for (let round = 0; round < 8; round++) {
      const order = roundOrder(TARGETS, round);
      assert.deepEqual([...order].sort(), [...TARGETS].sort(), `round ${round}`);
      assert.deepEqual(roundOrder(TARGETS, round), order, `round ${round} again`);
    }
    assert.deepEqual(TARGETS[0], 'F+plugins', 'the list itself is left as it was');
  });

  it('puts no row always right after the same one in the default four rounds', () => {
    const after = (order: string[], name: string): string | undefined =>
      order[order.indexOf(name) + 1];
    const rounds = [0, 1, 2, 3].map((r) => roundOrder(TARGETS, r));
    for (const name of TARGETS) {
      const followers = new Set(rounds.map((order) => after(order, name)));
      assert.ok(followers.size > 1, `${name} is followed by ${[...followers].join(', ')}`);
    }
    const firsts = new Set(rounds.map((order) => order[0]));
    assert.ok(firsts.size > 1, 'not the same target first in every round');
  });
});
