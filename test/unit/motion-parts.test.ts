/**
 * The small pieces around motion detection: the mask (rectangles in fractions → blocks, bad
 * input dropped), the analysis rate, the scripted scene's truth table, the demo camera's
 * `--scene` switch, and the test pattern left as it was when the scene is off.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { blockMask, normalizeRects } from '../../src/motion/mask';
import { RateGate } from '../../src/camera/rate-gate';
import { sceneAt, WALKS, LIGHTS_ON, LIGHTS_OFF, OBJECT_W } from '../../src/sim/scene';
import { parseDemoCameraArgs } from '../../src/sim/cli-entry';
import { JpegEncoder } from '../../src/jpeg/encoder';
import { TestPattern } from '../../src/sim/test-pattern';
import { Scene } from '../../src/sim/scene';

describe('mask', () => {
  test('rectangles are clipped to the picture; anything else is dropped', () => {
    assert.deepEqual(normalizeRects([{ x: -0.1, y: 0.5, w: 0.3, h: 0.8 }, { x: 0.2 }, null, 'x', { x: 0, y: 0, w: 0, h: 1 }, { x: 1.2, y: 0, w: 1, h: 1 }]), [{ x: 0, y: 0.5, w: 0.2, h: 0.5 }]);
    assert.deepEqual(normalizeRects('[{"x":0,"y":0,"w":1,"h":0.5}]'), [{ x: 0, y: 0, w: 1, h: 0.5 }]);
    assert.deepEqual(normalizeRects('not json'), []);
    assert.deepEqual(normalizeRects(undefined), []);
    assert.equal(normalizeRects(Array.from({ length: 100 }, () => ({ x: 0, y: 0, w: 1, h: 1 }))).length, 64);
  });

  test('a block is excluded when its centre lies in a rectangle', () => {
    // 4×2 blocks over 32×16 pixels; the right half
    const m = blockMask([{ x: 0.5, y: 0, w: 0.5, h: 1 }], 4, 2, 32, 16);
    assert.deepEqual([...m], [0, 0, 1, 1, 0, 0, 1, 1]);
    // a picture of 36 px: the last block's centre is clipped to the edge
    assert.deepEqual([...blockMask([{ x: 0.9, y: 0, w: 0.1, h: 1 }], 5, 1, 36, 8)], [0, 0, 0, 0, 1]);
  });
});

describe('analysis rate', () => {
  test('15 fps in at 5 analyses a second: every third frame, evenly, and jitter does not skip one', () => {
    const g = new RateGate(5);
    const admitted: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = (i * 1000) / 15 + (i % 2 ? 6 : -6);
      if (g.admit(t)) admitted.push(i);
    }
    assert.deepEqual(admitted, [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    assert.equal(g.skipped, 20);
  });

  test('rate 0 analyses every frame; a pause realigns the grid', () => {
    const all = new RateGate(0);
    for (let i = 0; i < 5; i++) assert.equal(all.admit(i), true);
    const g = new RateGate(5);
    assert.equal(g.admit(0), true);
    assert.equal(g.admit(5000), true);
    assert.equal(g.admit(5100), false);
    assert.equal(g.admit(5200), true);
  });
});

describe('the scripted scene', () => {
  test('what is in the picture when', () => {
    assert.equal(sceneAt(2).object, null);
    const w = WALKS[0]!;
    const mid = sceneAt((w.start + w.end) / 2);
    assert.ok(mid.moving && mid.object && Math.abs(mid.object.w - OBJECT_W) < 1e-9);
    assert.equal(sceneAt(w.start - 0.01).object, null);
    assert.equal(sceneAt(LIGHTS_ON - 0.1).lightsOn, false);
    assert.equal(sceneAt(LIGHTS_ON + 0.1).lightsOn, true);
    assert.ok(Math.abs(sceneAt(LIGHTS_ON + 0.1).sinceSwitch - 0.1) < 1e-9);
    assert.equal(sceneAt(LIGHTS_OFF + 1).lightsOn, false);
    assert.deepEqual(sceneAt(60 + w.start + 1), sceneAt(w.start + 1), 'it repeats every minute');
    assert.deepEqual(sceneAt(1, { offsetSec: w.start }), sceneAt(w.start + 1));
    assert.equal(sceneAt(w.start + 1, { noiseOnly: true }).object, null);
  });

  test('demo-camera --scene switches it on; without it the options have no scene', () => {
    assert.equal(parseDemoCameraArgs(['--scene']).scene, true);
    assert.equal(parseDemoCameraArgs([]).scene, undefined);
  });

  test('without a scene the test pattern still draws its bouncing box, with one it draws the walk instead', () => {
    const enc = new JpegEncoder({ width: 320, height: 240 });
    const plain = enc.allocPlanes();
    new TestPattern(320, 240, plain).render(plain, 0, 0);
    // the box: orange (luma 158) at the left of the bars, 40 px high, centred in the bars
    const boxY = Math.floor((160 - 40) / 2) + 2;
    assert.ok(Math.abs(plain.y[boxY * plain.yStride + 2]! - 158) <= 1, `luma ${plain.y[boxY * plain.yStride + 2]}`);
    const scene = enc.allocPlanes();
    new TestPattern(320, 240, scene, new Scene(320, 240, { noise: 0 }, 0)).render(scene, 0, 0);
    assert.ok(Math.abs(scene.y[boxY * scene.yStride + 2]! - 158) > 20, 'no box in the scene');
  });
});
