/**
 * Clips on disk: the clip writer (frames back in order, nothing twice, a playable file after
 * every frame, a bounded queue), the recorder (pre-roll, post-roll, re-triggers, maxLength,
 * no frame in two clips, the clip closed when frames stop, stop()), retention (age, size,
 * oldest first, only clip files) and replay at the recorded timing. Times are synthetic:
 * the recorder's clock and the frames' times are the test's.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, utimesSync, readdirSync, copyFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClipWriter } from '../../src/record/clip-writer';
import { readAviFrames } from '../../src/record/avi-reader';
import { Recorder, type ClipInfo, type RecorderOptions } from '../../src/record/recorder';
import { applyRetention, listClips } from '../../src/record/retention';
import { replayClip } from '../../src/record/replay';
import { FrameRing } from '../../src/record/frame-ring';

const root = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-clips-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const dir = (): string => join(root, `d${++dirs}`);

/** a tiny JPEG-looking frame that carries its number (SOF with 320×240) */
function frame(n: number): Buffer {
  const b = Buffer.alloc(40);
  Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0xf0, 0x01, 0x40]).copy(b);
  b.writeUInt32BE(n, 20);
  b[38] = 0xff;
  b[39] = 0xd9;
  return b;
}
const numberOf = (jpeg: Buffer): number => jpeg.readUInt32BE(20);

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('clip writer', () => {
  test('frames come back in order; a frame again or an older one is refused', async () => {
    const f = join(root, 'w1.avi');
    const w = await ClipWriter.create(f, { width: 320, height: 240, slotMs: 100, t0: 0 });
    assert.equal(w.add(frame(1), 0), true);
    assert.equal(w.add(frame(2), 100), true);
    const f2 = frame(2);
    assert.equal(w.add(f2, 100), false, 'the same frame again');
    assert.equal(w.add(frame(9), 50), false, 'older than the last');
    assert.equal(w.add(frame(3), 400), true);
    const s = await w.close();
    assert.deepEqual([s.frames, s.start, s.end, s.bytes], [3, 0, 400, statSync(f).size]);
    const r = readAviFrames(readFileSync(f));
    assert.deepEqual(r.frames.map((x) => numberOf(x.jpeg)), [1, 2, 3]);
    assert.deepEqual(r.frames.map((x) => x.slot), [0, 1, 4], 'the gap is two empty slots');
    await assert.rejects(ClipWriter.create(f, { width: 1, height: 1, slotMs: 100, t0: 0 }), /EEXIST/);
  });

  test('after every frame the file on disk is a whole AVI of the frames so far (no index yet)', async () => {
    const f = join(root, 'w2.avi');
    const w = await ClipWriter.create(f, { width: 320, height: 240, slotMs: 40, t0: 0 });
    for (let i = 0; i < 20; i++) {
      w.add(frame(i), i * 40);
      await w.flush();
      const copy = join(root, 'w2-copy.avi');
      copyFileSync(f, copy);
      const b = readFileSync(copy);
      assert.equal(b.readUInt32LE(4), b.length - 8, 'RIFF size covers the file');
      assert.equal(b.readUInt32LE(48), i + 1, 'frame count in the header');
      assert.equal(readAviFrames(b).frames.length, i + 1);
    }
    await w.close();
  });

  test('a disk that falls behind: frames past the queue bound are dropped and counted', async () => {
    const w = await ClipWriter.create(join(root, 'w3.avi'), { width: 320, height: 240, slotMs: 40, t0: 0, maxQueueBytes: 200 });
    let taken = 0;
    for (let i = 0; i < 50; i++) if (w.add(frame(i), i * 40)) taken++;
    const s = await w.close();
    assert.ok(taken < 50 && s.dropped === 50 - taken, `${taken} taken, ${s.dropped} dropped`);
    assert.equal(readAviFrames(readFileSync(join(root, 'w3.avi'))).frames.length, taken);
  });
});

describe('frame ring', () => {
  test('bounded by seconds and by bytes, oldest out first', () => {
    const r = new FrameRing(1000, 400);
    for (let i = 0; i < 30; i++) r.push(frame(i), i * 100);
    assert.equal(r.length, 10, 'at most 400 bytes of 40-byte frames');
    assert.deepEqual(r.since(-Infinity, 0).map((x) => numberOf(x.jpeg)), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    r.setLimits(500, 1e6);
    assert.deepEqual(r.since(-Infinity, 0).map((x) => x.t), [2400, 2500, 2600, 2700, 2800, 2900]);
    assert.deepEqual(r.since(2600, 0).map((x) => x.t), [2700, 2800, 2900]);
  });
});

class Harness {
  now = 0;
  clips: ClipInfo[] = [];
  errors: Error[] = [];
  states: string[] = [];
  rec: Recorder;
  next = 0;
  constructor(readonly folder: string, o: Partial<RecorderOptions>) {
    this.rec = new Recorder({ folder, preRoll: 2, postRoll: 1, maxLength: 60, maxAgeDays: 0, maxSizeMB: 0, ...o, now: () => this.now }, {
      clip: (c) => this.clips.push(c),
      error: (e) => this.errors.push(e),
      state: (s) => this.states.push(s),
    });
  }
  /** frames every 100 ms up to `until` (ms) */
  async run(until: number): Promise<void> {
    while (this.now + 100 <= until) {
      this.now += 100;
      this.rec.push(frame(this.now / 100), this.now);
      // let the file be created when a clip opens
      if (this.next++ % 5 === 0) await new Promise((r) => setImmediate(r));
    }
  }
  frames(c: ClipInfo): number[] {
    return readAviFrames(readFileSync(c.file)).frames.map((x) => numberOf(x.jpeg));
  }
}

describe('recorder', () => {
  test('pre-roll + trigger + post-roll: the clip holds exactly those frames, in order', async () => {
    const h = new Harness(dir(), { preRoll: 2, postRoll: 1 });
    await h.run(5000);
    h.rec.trigger(true);
    await h.run(7000);
    h.rec.trigger(false);
    await h.run(9000);
    await waitFor(() => h.clips.length === 1, 'one clip');
    const c = h.clips[0]!;
    // frames at 3.0 … 8.0 s: 20 before the trigger, 21 from it to the end of post-roll
    assert.equal(c.preRollFrames, 20);
    assert.equal(c.frames, 51);
    assert.deepEqual([c.start, c.end], [3000, 8000]);
    assert.deepEqual(h.frames(c), Array.from({ length: 51 }, (_, i) => 30 + i));
    assert.equal(c.bytes, statSync(c.file).size);
    assert.match(c.file, /clip-\d{8}-\d{6}\.avi$/);
    assert.deepEqual(h.states, ['recording', 'post-roll', 'idle']);
    await h.rec.stop();
  });

  test('a trigger during post-roll extends the clip; two triggers overlapping make one clip', async () => {
    const h = new Harness(dir(), { preRoll: 0, postRoll: 1 });
    await h.run(1000);
    h.rec.trigger(true);
    await h.run(2000);
    h.rec.trigger(false);
    await h.run(2500);
    h.rec.trigger(true);
    h.rec.trigger(true);
    await h.run(3000);
    h.rec.trigger(false);
    await h.run(5000);
    await waitFor(() => h.clips.length === 1, 'one clip');
    assert.deepEqual([h.clips[0]!.start, h.clips[0]!.end], [1000, 4000]);
    await h.rec.stop();
    assert.equal(h.clips.length, 1);
  });

  test('maxLength caps the clip and spends the trigger; the next clip takes no frame the first had', async () => {
    const h = new Harness(dir(), { preRoll: 3, postRoll: 0, maxLength: 2 });
    await h.run(1000);
    h.rec.trigger(true);
    await h.run(4000);
    await waitFor(() => h.clips.length === 1, 'the capped clip');
    assert.equal(h.clips[0]!.end - h.clips[0]!.start, 2000);
    assert.equal(h.rec.state, 'idle');
    h.rec.trigger(true);
    await h.run(5000);
    h.rec.trigger(false);
    await h.run(6000);
    await waitFor(() => h.clips.length === 2, 'the second clip');
    const [a, b] = [h.frames(h.clips[0]!), h.frames(h.clips[1]!)];
    assert.ok(b[0]! > a[a.length - 1]!, `second clip starts at ${b[0]} after the first ended at ${a[a.length - 1]}`);
    for (const c of h.clips) {
      const n = h.frames(c);
      for (let i = 1; i < n.length; i++) assert.ok(n[i]! > n[i - 1]!, 'in order, no repeats');
    }
    await h.rec.stop();
  });

  test('when frames stop, the clip still closes after post-roll (timer)', async () => {
    const h = new Harness(dir(), { preRoll: 0, postRoll: 0.2 });
    await h.run(500);
    h.rec.trigger(true);
    await h.run(1000);
    h.rec.trigger(false);
    await waitFor(() => h.clips.length === 1, 'closed without more frames', 3000);
    assert.equal(h.clips[0]!.end, 1000);
    await h.rec.stop();
  });

  test('a trigger before any frame starts the clip at the first frame; stop() closes an open clip with its index', async () => {
    const h = new Harness(dir(), { preRoll: 5 });
    h.rec.trigger(true);
    await h.run(1500);
    await h.rec.stop();
    assert.equal(h.clips.length, 1);
    assert.deepEqual([h.clips[0]!.start, h.clips[0]!.preRollFrames], [100, 0]);
    const b = readFileSync(h.clips[0]!.file);
    assert.equal(b.readUInt32LE(44), 0x10, 'indexed');
    assert.equal(readAviFrames(b).frames.length, 15);
  });

  test('a folder that cannot be made is an error, not a crash', async () => {
    const file = join(root, 'not-a-folder');
    writeFileSync(file, 'x');
    const h = new Harness(join(file, 'clips'), {});
    await h.run(500);
    h.rec.trigger(true);
    await waitFor(() => h.errors.length === 1, 'error reported');
    assert.equal(h.rec.state, 'idle');
    await h.rec.stop();
  });
});

describe('retention', () => {
  const make = (folder: string, name: string, bytes: number, ageDays: number): string => {
    const p = join(folder, name);
    writeFileSync(p, Buffer.alloc(bytes));
    const t = (Date.now() - ageDays * 86_400_000) / 1000;
    utimesSync(p, t, t);
    return p;
  };

  test('by age, then by size oldest first; only clip files; the clip being written is kept', async () => {
    const d = dir();
    rmSync(d, { recursive: true, force: true });
    assert.deepEqual(await listClips(d), [], 'a folder that does not exist holds no clips');
    mkdirSync(d);
    make(d, 'clip-20260101-000000.avi', 1000, 10);
    make(d, 'clip-20260102-000000.avi', 400_000, 5);
    make(d, 'clip-20260103-000000.avi', 400_000, 4);
    make(d, 'clip-20260104-000000-1.avi', 400_000, 3);
    const writing = make(d, 'clip-20260105-000000.avi', 400_000, 2.5);
    make(d, 'clip-20260106-000000.avi', 400_000, 2);
    make(d, 'holiday.avi', 5_000_000, 100);
    make(d, 'notes.txt', 10, 100);
    const r = await applyRetention(d, { maxAgeDays: 7, maxSizeMB: 1, keep: new Set([writing]) });
    assert.deepEqual(r.deleted.map((p) => p.slice(d.length + 1)), [
      'clip-20260101-000000.avi', // older than 7 days
      'clip-20260102-000000.avi', 'clip-20260103-000000.avi', 'clip-20260104-000000-1.avi', // oldest, until ≤ 1 MB
    ]);
    assert.deepEqual(readdirSync(d).sort(), ['clip-20260105-000000.avi', 'clip-20260106-000000.avi', 'holiday.avi', 'notes.txt']);
    assert.equal(r.bytes, 800_000);
  });

  test('the recorder runs retention after each clip: old clips go, the new one stays', async () => {
    const d = dir();
    mkdirSync(d);
    make(d, 'clip-20200101-000000.avi', 2_000_000, 1);
    const h = new Harness(d, { preRoll: 0, postRoll: 0, maxSizeMB: 1 });
    await h.run(200);
    h.rec.trigger(true);
    await h.run(800);
    h.rec.trigger(false);
    await h.run(1000);
    await waitFor(() => h.clips.length === 1, 'clip');
    assert.equal(existsSync(join(d, 'clip-20200101-000000.avi')), false);
    assert.equal(existsSync(h.clips[0]!.file), true);
    await h.rec.stop();
  });
});

describe('replay', () => {
  test('frames come at their recorded times (empty slots pass as time); abort stops it', async () => {
    const f = join(root, 'r1.avi');
    const w = await ClipWriter.create(f, { width: 320, height: 240, slotMs: 100, t0: 0 });
    for (const t of [0, 100, 200, 600, 700]) w.add(frame(t), t);
    await w.close();
    const got: { n: number; at: number; clip: number }[] = [];
    const t0 = performance.now();
    const r = await replayClip(f, (jpeg, clipMs) => got.push({ n: numberOf(jpeg), at: performance.now() - t0, clip: clipMs }));
    assert.deepEqual(got.map((g) => g.n), [0, 100, 200, 600, 700]);
    assert.deepEqual(got.map((g) => g.clip), [0, 100, 200, 600, 700]);
    assert.ok(got[3]!.at >= 550, `the frame of 600 ms came at ${got[3]!.at.toFixed(0)} ms`);
    assert.deepEqual([r.frames, r.durationMs, r.aborted], [5, 800, false]);
    const ac = new AbortController();
    const some: number[] = [];
    const p = replayClip(f, (jpeg) => { some.push(numberOf(jpeg)); if (some.length === 2) ac.abort(); }, { signal: ac.signal });
    assert.equal((await p).aborted, true);
    assert.deepEqual(some, [0, 100]);
  });
});
