import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Pacer } from '../../src/sim/pacer';

describe('sim/pacer', () => {
  test('ticks are due at start + n·period; delay counts down to the next one', () => {
    const p = new Pacer(40);
    p.restart(1000);
    assert.equal(p.nextDueMs, 1000);
    assert.equal(p.delayMs(990), 10);
    assert.equal(p.take(1000), 1000);
    assert.equal(p.nextDueMs, 1040);
    assert.equal(p.delayMs(1001), 39);
    assert.equal(p.delayMs(1100), 0, 'never negative');
    // up to one period late: the tick keeps its own due time (no drift)
    assert.equal(p.take(1075), 1040);
    assert.equal(p.take(1085), 1080);
  });

  test('more than one period late: jumps to the current tick instead of bursting the missed ones', () => {
    const p = new Pacer(40);
    p.restart(0);
    p.take(0);
    assert.equal(p.take(1000), 1000); // ticks 1..24 skipped
    assert.equal(p.nextDueMs, 1040);
    assert.equal(p.take(1041), 1040);
  });

  test('restart begins a new timeline', () => {
    const p = new Pacer(20);
    p.restart(0);
    p.take(0); p.take(20);
    p.restart(5000);
    assert.equal(p.take(5000), 5000);
    assert.equal(p.nextDueMs, 5020);
  });
});
