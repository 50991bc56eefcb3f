/**
 * The Motion-JPEG AVI bytes (record/avi.ts, avi-reader.ts) and the frame grid (timeline.ts):
 * header fields where the AVI RIFF reference puts them, sizes that add up, idx1 entries that
 * point at their chunks, the rate as players show it, real timing as empty slots, and the
 * reader stopping at the last whole chunk of a file cut anywhere.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { aviHeader, chunkBytes, chunkHeader, HEADER_BYTES, idx1, MOVI_FOURCC_AT, rateOf, type IndexEntry } from '../../src/record/avi';
import { parseAviHeader, readAviFrames, parseChunkHeader, AviError } from '../../src/record/avi-reader';
import { Timeline, slotMs } from '../../src/record/timeline';

/** an AVI in memory, as ClipWriter lays it out */
function build(frames: (Buffer | null)[], usPerFrame = 66_667, withIndex = true): Buffer {
  const parts: Buffer[] = [];
  const index: IndexEntry[] = [];
  let movi = 0;
  let max = 0;
  for (const f of frames) {
    const data = f ?? Buffer.alloc(0);
    const { header, pad } = chunkHeader(data.length);
    index.push({ offset: HEADER_BYTES + movi - MOVI_FOURCC_AT, size: data.length });
    parts.push(header, data, Buffer.alloc(pad));
    movi += chunkBytes(data.length);
    max = Math.max(max, data.length);
  }
  const trailer = withIndex ? idx1(index) : Buffer.alloc(0);
  const head = aviHeader({ width: 320, height: 240, usPerFrame, slots: frames.length, moviBytes: movi, maxChunk: max, trailerBytes: trailer.length, indexed: withIndex });
  return Buffer.concat([head, ...parts, trailer]);
}
const jpeg = (n: number, len = 100 + n): Buffer => {
  const b = Buffer.alloc(len, n & 0xff);
  b[0] = 0xff; b[1] = 0xd8; b[len - 2] = 0xff; b[len - 1] = 0xd9;
  return b;
};

describe('AVI layout', () => {
  test('RIFF, hdrl, avih, strh, strf, movi and idx1 where the AVI reference puts them', () => {
    const frames = [jpeg(1), null, jpeg(2, 101), jpeg(3)];
    const f = build(frames);
    assert.equal(f.toString('latin1', 0, 4), 'RIFF');
    assert.equal(f.readUInt32LE(4), f.length - 8, 'RIFF size');
    assert.equal(f.toString('latin1', 8, 12), 'AVI ');
    assert.equal(f.toString('latin1', 12, 16), 'LIST');
    assert.equal(f.toString('latin1', 20, 24), 'hdrl');
    assert.equal(f.toString('latin1', 24, 28), 'avih');
    assert.equal(f.readUInt32LE(32), 66_667, 'dwMicroSecPerFrame');
    assert.equal(f.readUInt32LE(44), 0x10, 'AVIF_HASINDEX');
    assert.equal(f.readUInt32LE(48), 4, 'dwTotalFrames');
    assert.equal(f.readUInt32LE(56), 1, 'one stream');
    assert.deepEqual([f.readUInt32LE(64), f.readUInt32LE(68)], [320, 240]);
    assert.equal(f.toString('latin1', 108, 116), 'vidsMJPG');
    assert.deepEqual([f.readUInt32LE(128), f.readUInt32LE(132)], [1, 15], 'dwScale/dwRate: 15 fps');
    assert.equal(f.readUInt32LE(140), 4, 'dwLength');
    assert.equal(f.toString('latin1', 164, 168), 'strf');
    assert.equal(f.toString('latin1', 188, 192), 'MJPG', 'biCompression');
    // the hdrl list ends where its size says, the movi list starts at MOVI_FOURCC_AT - 8
    assert.equal(20 + f.readUInt32LE(16), 212);
    assert.equal(f.toString('latin1', MOVI_FOURCC_AT - 8, MOVI_FOURCC_AT - 4), 'LIST');
    assert.equal(f.toString('latin1', MOVI_FOURCC_AT, MOVI_FOURCC_AT + 4), 'movi');
    const moviEnd = MOVI_FOURCC_AT + f.readUInt32LE(MOVI_FOURCC_AT - 4);
    assert.equal(f.toString('latin1', moviEnd, moviEnd + 4), 'idx1');
    const n = f.readUInt32LE(moviEnd + 4) / 16;
    assert.equal(n, 4);
    for (let i = 0; i < n; i++) {
      const e = moviEnd + 8 + 16 * i;
      const at = MOVI_FOURCC_AT + f.readUInt32LE(e + 8);
      assert.equal(f.toString('latin1', at, at + 4), '00dc', `entry ${i} points at its chunk`);
      assert.equal(f.readUInt32LE(at + 4), f.readUInt32LE(e + 12), `entry ${i} size`);
      assert.equal(f.readUInt32LE(e + 4), i === 1 ? 0 : 0x10, 'frames are key frames, the empty slot is not');
    }
    // odd-sized chunks are padded to a word boundary
    assert.equal(chunkBytes(101), 110);
  });

  test('the rate: whole fps when it is one, microseconds otherwise', () => {
    assert.deepEqual(rateOf(40_000), { rate: 25, scale: 1 });
    assert.deepEqual(rateOf(66_666.67), { rate: 15, scale: 1 });
    assert.deepEqual(rateOf(70_000), { rate: 1_000_000, scale: 70_000 });
  });

  test('the reader gives back the frames and their slots, also from a header written mid-clip', () => {
    const frames = [jpeg(1), null, null, jpeg(2), jpeg(3)];
    for (const indexed of [true, false]) {
      const r = readAviFrames(build(frames, 40_000, indexed));
      assert.deepEqual(r.info.width, 320);
      assert.equal(r.info.usPerFrame, 40_000);
      assert.equal(r.slots, 5);
      assert.deepEqual(r.frames.map((x) => x.slot), [0, 3, 4]);
      assert.ok(r.frames[1]!.jpeg.equals(jpeg(2)));
    }
  });

  test('a file cut anywhere reads up to its last whole frame', () => {
    const frames = [jpeg(1), jpeg(2), jpeg(3), jpeg(4)];
    const whole = build(frames, 40_000, false);
    for (let cut = HEADER_BYTES; cut <= whole.length; cut += 7) {
      const r = readAviFrames(whole.subarray(0, cut));
      const complete = frames.filter((_, i) => HEADER_BYTES + frames.slice(0, i + 1).reduce((s, f) => s + chunkBytes(f.length), 0) <= cut).length;
      assert.equal(r.frames.length, complete, `cut at ${cut}`);
    }
    assert.throws(() => parseAviHeader(Buffer.from('RIFF\0\0\0\0WAVE')), AviError);
    assert.throws(() => parseAviHeader(whole.subarray(0, 100)), AviError);
  });

  test('chunk ids: video of the stream, other streams skipped, idx1 ends the data', () => {
    const h = Buffer.alloc(8);
    h.write('01wb', 0, 'latin1');
    h.writeUInt32LE(11, 4);
    assert.deepEqual(parseChunkHeader(h, 0, 0), { video: false, end: false, size: 11, next: 20 });
    h.write('idx1', 0, 'latin1');
    assert.equal(parseChunkHeader(h, 0, 0).end, true);
    h.write('01dc', 0, 'latin1');
    assert.equal(parseChunkHeader(h, 0, 1).video, true);
  });
});

describe('frame timing on the AVI grid', () => {
  test('slot length: the median spacing of recent frames', () => {
    assert.equal(slotMs([0, 66, 133, 200, 266, 333]), 67);
    assert.equal(slotMs([0, 40, 80, 200, 240]), 40, 'a gap does not change the rate');
    assert.equal(slotMs([]), 100);
  });

  test('frames go to the slot nearest their time, in order, gaps become empty slots', () => {
    const t = new Timeline(40, 1000);
    assert.deepEqual(t.place(1000), { slot: 0, empties: 0 });
    assert.deepEqual(t.place(1043), { slot: 1, empties: 0 });
    assert.deepEqual(t.place(1075), { slot: 2, empties: 0 }, 'early frames keep their order');
    assert.deepEqual(t.place(1079), { slot: 3, empties: 0 }, 'two frames in one slot: the later one goes one on');
    assert.deepEqual(t.place(1240), { slot: 6, empties: 2 }, 'a gap of two frames');
    assert.equal(t.slots, 7);
    assert.equal(t.timeOf(6), 1240);
  });
});
