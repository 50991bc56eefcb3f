/**
 * Motion detection on DC maps against the demo camera's scripted scene, frames fed faster than
 * real time at 5 analyses per second: the frames with the walking object flagged, events where
 * the script has them, the lights switching suppressed, five minutes of noise alone quiet,
 * the mask respected, boxes where the object is. Then the pieces: slow lighting drift, a
 * thing that stops and becomes background, a new picture size, learning.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readDcMap, type DcMap } from '../../src/jpeg/dc-reader';
import { MotionDetector, LEARN_FRAMES, type MotionOptions, type MotionFrame } from '../../src/motion/detector';
import { EventTracker } from '../../src/motion/events';
import { sceneAt, WALKS, LIGHTS_ON, LIGHTS_OFF, SCENE_PERIOD_SEC, type SceneOptions } from '../../src/sim/scene';
import { SceneFrames, TEXT_BAND } from '../support/scene-frames';

interface Run {
  movingFrames: number;
  flagged: number;
  falseFrames: number;
  events: { start: number; end: number | null }[];
  globalAt: number[];
  frames: { t: number; f: MotionFrame }[];
}

function runScene(seconds: number, scene: SceneOptions, opts: MotionOptions, fps = 5, size: [number, number] = [320, 240]): Run {
  const src = new SceneFrames(size[0], size[1], scene);
  const det = new MotionDetector(opts);
  const ev = new EventTracker(2000);
  const run: Run = { movingFrames: 0, flagged: 0, falseFrames: 0, events: [], globalAt: [], frames: [] };
  for (let i = 0; i < seconds * fps; i++) {
    const t = (i * 1000) / fps;
    const f = det.analyse(readDcMap(src.at(t)), t);
    run.frames.push({ t, f });
    const truth = sceneAt(t / 1000, scene);
    if (truth.moving) {
      run.movingFrames++;
      if (f.motion) run.flagged++;
    } else if (f.motion) run.falseFrames++;
    if (f.globalChange) run.globalAt.push(t / 1000);
    const c = ev.frame(f, t);
    if (c?.kind === 'start') run.events.push({ start: t / 1000, end: null });
    if (c?.kind === 'end') run.events[run.events.length - 1]!.end = t / 1000;
  }
  return run;
}

describe('motion detection: the scripted scene', () => {
  test('two periods at 5 fps: ≥ 95 % of the frames with the walking object flagged, one event per walk, lights suppressed', (t) => {
    const r = runScene(2 * SCENE_PERIOD_SEC, {}, { mask: [TEXT_BAND] });
    const pct = (100 * r.flagged) / r.movingFrames;
    t.diagnostic(`flagged ${r.flagged}/${r.movingFrames} = ${pct.toFixed(1)} %, frames flagged without the object ${r.falseFrames}, events ${JSON.stringify(r.events)}`);
    assert.ok(r.movingFrames > 100);
    assert.ok(pct >= 95, `${pct.toFixed(1)} % flagged`);
    assert.equal(r.falseFrames, 0);
    // one event per walk, starting with it and ending within gap + one frame of its end
    const walks = [0, 1].flatMap((p) => WALKS.map((w) => ({ start: p * SCENE_PERIOD_SEC + w.start, end: p * SCENE_PERIOD_SEC + w.end })));
    assert.equal(r.events.length, walks.length, JSON.stringify(r.events));
    r.events.forEach((e, i) => {
      assert.ok(e.start >= walks[i]!.start && e.start <= walks[i]!.start + 0.6, `event ${i} starts at ${e.start}`);
      assert.ok(e.end !== null && e.end >= walks[i]!.end && e.end <= walks[i]!.end + 2.4, `event ${i} ends at ${e.end}`);
    });
    // the lights switched four times: each a global change, none an event
    const switches = [0, 1].flatMap((p) => [LIGHTS_ON, LIGHTS_OFF].map((s) => p * SCENE_PERIOD_SEC + s));
    for (const s of switches) assert.ok(r.globalAt.some((g) => g >= s && g < s + 0.4), `switch at ${s} s seen as a global change: ${r.globalAt}`);
    for (const e of r.events) for (const s of switches) assert.ok(Math.abs(e.start - s) > 3, `event at ${e.start} next to a switch at ${s}`);
  });

  test('640×480 as well: every walking frame flagged within the first period', () => {
    const r = runScene(SCENE_PERIOD_SEC, {}, { mask: [TEXT_BAND] }, 5, [640, 480]);
    assert.ok(r.flagged / r.movingFrames >= 0.95, `${r.flagged}/${r.movingFrames}`);
    assert.equal(r.events.length, 2);
  });

  test('five minutes of sensor noise alone: no motion, no event', (t) => {
    const r = runScene(300, { noiseOnly: true, noise: 4 }, { mask: [TEXT_BAND] });
    t.diagnostic(`${r.frames.length} frames, ${r.frames.filter((x) => x.f.motion).length} with motion, largest area ${Math.max(...r.frames.map((x) => x.f.area))}`);
    assert.equal(r.frames.length, 1500);
    assert.equal(r.events.length, 0);
    assert.equal(r.frames.filter((x) => x.f.motion).length, 0);
  });

  test('the mask is respected: the first walk, masked, is no motion; the second still is', () => {
    const walk1 = WALKS[0]!;
    const r = runScene(SCENE_PERIOD_SEC, {}, { mask: [TEXT_BAND, { x: 0, y: walk1.y - 0.02, w: 1, h: 0.26 }] });
    const during = (w: (typeof WALKS)[number]): MotionFrame[] => r.frames.filter((x) => x.t / 1000 >= w.start && x.t / 1000 < w.end).map((x) => x.f);
    assert.equal(during(walk1).filter((f) => f.motion).length, 0, 'motion inside the mask');
    assert.equal(r.events.length, 1);
    assert.ok(r.events[0]!.start >= WALKS[1]!.start);
    for (const x of r.frames) for (const b of x.f.boxes) assert.ok(b.y >= walk1.y + 0.2 || b.y + b.h <= walk1.y, `box inside the mask: ${JSON.stringify(b)}`);
  });

  test('without the mask the changing clock digits are motion (minArea 0.2 %): the mask is what keeps them out', () => {
    const r = runScene(6, { noiseOnly: true }, { minArea: 0.002 });
    assert.ok(r.frames.filter((x) => x.f.motion).length > 10);
    for (const x of r.frames) for (const b of x.f.boxes) assert.ok(b.y >= 0.6, `a box outside the text band: ${JSON.stringify(b)}`);
    const masked = runScene(6, { noiseOnly: true }, { minArea: 0.002, mask: [TEXT_BAND] });
    assert.equal(masked.frames.filter((x) => x.f.motion).length, 0);
  });

  test('boxes follow the object (overlap at least half the object in the middle of each walk)', () => {
    const r = runScene(SCENE_PERIOD_SEC, {}, { mask: [TEXT_BAND] });
    let checked = 0;
    for (const { t, f } of r.frames) {
      const truth = sceneAt(t / 1000);
      if (!truth.object || truth.object.w < 0.1) continue;
      const o = truth.object;
      const b = f.boxes[0];
      assert.ok(b, `no box at ${t} ms`);
      const ix = Math.max(0, Math.min(o.x + o.w, b.x + b.w) - Math.max(o.x, b.x));
      const iy = Math.max(0, Math.min(o.y + o.h, b.y + b.h) - Math.max(o.y, b.y));
      assert.ok((ix * iy) / (o.w * o.h) >= 0.5, `box ${JSON.stringify(b)} vs object ${JSON.stringify(o)}`);
      checked++;
    }
    assert.ok(checked > 40);
  });
});

/** a synthetic DC map: a gradient background with optional squares */
function map(cols: number, rows: number, f: (x: number, y: number) => number): DcMap {
  const means = new Float32Array(cols * rows);
  for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) means[y * cols + x] = Math.max(0, Math.min(255, f(x, y)));
  return { width: cols * 8, height: rows * 8, cols, rows, means, sampling: 'grey' };
}
const ramp = (x: number, y: number): number => 40 + x * 3 + y * 2;

describe('motion detection: behaviour', () => {
  test('learns first: nothing is reported during the first frames, then a square is', () => {
    const d = new MotionDetector();
    for (let i = 0; i < LEARN_FRAMES; i++) assert.equal(d.analyse(map(40, 30, ramp), i * 200).learning, true);
    assert.equal(d.analyse(map(40, 30, ramp), LEARN_FRAMES * 200).learning, false);
    const f = d.analyse(map(40, 30, (x, y) => (x >= 10 && x < 16 && y >= 5 && y < 11 ? 230 : ramp(x, y))), (LEARN_FRAMES + 1) * 200);
    assert.equal(f.motion, true);
    assert.equal(f.area, 36 / 1200);
    assert.deepEqual(f.boxes, [{ x: 0.25, y: 0.1667, w: 0.15, h: 0.2 }]);
  });

  test('a slow lighting drift (+40 grey levels over 20 s) is followed, never motion', () => {
    const d = new MotionDetector();
    for (let i = 0; i <= 100; i++) {
      const f = d.analyse(map(40, 30, (x, y) => ramp(x, y) * (1 + i * 0.002) + i * 0.3), i * 200);
      assert.equal(f.motion, false, `frame ${i}`);
      assert.equal(f.globalChange, false, `frame ${i}`);
    }
  });

  test('a sudden change of the whole picture is a global change, then quiet again', () => {
    const d = new MotionDetector();
    for (let i = 0; i < 12; i++) d.analyse(map(40, 30, ramp), i * 200);
    const f = d.analyse(map(40, 30, (x, y) => 255 - ramp(x, y)), 12 * 200); // an IR switch, say
    assert.equal(f.globalChange, true);
    assert.equal(f.motion, false);
    assert.equal(d.analyse(map(40, 30, (x, y) => 255 - ramp(x, y)), 13 * 200).motion, false);
  });

  test('something that arrives and stays becomes background after absorbSeconds', () => {
    const d = new MotionDetector({ absorbSeconds: 3 });
    for (let i = 0; i < 12; i++) d.analyse(map(40, 30, ramp), i * 200);
    const parked = (x: number, y: number): number => (x >= 5 && x < 15 && y >= 5 && y < 12 ? 220 : ramp(x, y));
    assert.equal(d.analyse(map(40, 30, parked), 12 * 200).motion, true);
    let quietAt = -1;
    for (let i = 13; i < 200 && quietAt < 0; i++) if (!d.analyse(map(40, 30, parked), i * 200).motion) quietAt = i;
    assert.ok(quietAt > 13, 'still motion right after arriving');
    const secs = ((quietAt - 12) * 200) / 1000;
    assert.ok(secs > 1 && secs < 20, `quiet after ${secs} s`);
  });

  test('a new picture size restarts learning; isolated blocks are not motion', () => {
    const d = new MotionDetector({ minArea: 0 });
    for (let i = 0; i < 12; i++) d.analyse(map(40, 30, ramp), i * 200);
    const lone = d.analyse(map(40, 30, (x, y) => (x === 20 && y === 10 ? 250 : ramp(x, y))), 12 * 200);
    assert.equal(lone.motion, false, 'one changed block alone');
    assert.equal(d.analyse(map(20, 15, ramp), 13 * 200).learning, true);
  });

  test('threshold and minArea: a faint change counts only under a low threshold; a small one only under a low minArea', () => {
    const faint = (x: number, y: number): number => (x >= 10 && x < 20 && y >= 10 && y < 20 ? ramp(x, y) + 8 : ramp(x, y));
    const small = (x: number, y: number): number => (x >= 10 && x < 12 && y >= 10 && y < 12 ? 250 : ramp(x, y));
    const after = (opts: MotionOptions, f: (x: number, y: number) => number): MotionFrame => {
      const d = new MotionDetector(opts);
      for (let i = 0; i < 12; i++) d.analyse(map(40, 30, ramp), i * 200);
      return d.analyse(map(40, 30, f), 12 * 200);
    };
    assert.equal(after({}, faint).motion, false);
    assert.equal(after({ threshold: 5 }, faint).motion, true);
    assert.equal(after({}, small).motion, false, '4 blocks of 1200 < 0.5 %');
    assert.equal(after({ minArea: 0.003 }, small).motion, true);
  });
});

describe('motion events', () => {
  test('start on the first motion frame, end after gap seconds of stillness, by frame or by tick', () => {
    const e = new EventTracker(2000);
    const m = (motion: boolean): MotionFrame => ({ motion, score: 50, area: motion ? 0.1 : 0, boxes: [], globalChange: false, learning: false });
    assert.equal(e.frame(m(false), 0), null);
    assert.equal(e.frame(m(true), 100)?.kind, 'start');
    assert.equal(e.frame(m(true), 300), null);
    assert.equal(e.frame(m(false), 2000), null);
    assert.equal(e.msUntilEnd(2000), 300);
    const end = e.frame(m(false), 2300);
    assert.equal(end?.kind, 'end');
    assert.deepEqual([end?.event.start, end?.event.lastMotion, end?.event.frames], [100, 300, 2]);
    assert.equal(e.frame(m(true), 2500)?.event.id, 2);
    assert.equal(e.tick(4000), null);
    assert.equal(e.tick(4500)?.kind, 'end');
  });
});
