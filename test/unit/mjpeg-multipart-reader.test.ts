/**
 * The multipart MJPEG reader (src/mjpeg/multipart-reader.ts) on the framings of real servers,
 * in every chunking, and on the ways servers get it wrong.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MultipartReader, type MultipartReaderOptions } from '../../src/mjpeg/multipart-reader';
import { kindFromContentType } from '../../src/mjpeg/media-type';
import { chunked, fixtureJpegs, multipartBody, type Framing } from '../support/mjpeg-wire';

const JPEGS = fixtureJpegs();

function read(reads: Buffer[], o: Partial<MultipartReaderOptions> & { boundary: string | null }, end = false): { frames: Buffer[]; ts: (number | null)[]; reader: MultipartReader } {
  const frames: Buffer[] = [];
  const ts: (number | null)[] = [];
  const reader = new MultipartReader({ ...o, onFrame: (j, p) => { frames.push(j); ts.push(p.timestampMs); } });
  for (const r of reads) reader.push(r);
  if (end) reader.end();
  return { frames, ts, reader };
}

function assertFrames(got: Buffer[], want: Buffer[], what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} frames, want ${want.length}`);
  got.forEach((g, i) => assert.ok(g.equals(want[i]!), `${what}: frame ${i} differs (${g.length} vs ${want[i]!.length} bytes)`));
}

const FRAMINGS: Framing[] = ['esp32', 'mjpg-streamer', 'axis', 'ffmpeg', 'motion', 'no-length-lf'];

describe('multipart reader: server framings', () => {
  for (const framing of FRAMINGS) {
    test(`${framing}: every picture, whole and in any chunking`, () => {
      const body = multipartBody(framing, JPEGS, { boundary: 'b0undary-x' });
      for (const sizes of [[body.length], [1], [2, 3], [7], [64, 1, 300], [4096]]) {
        const { frames } = read(chunked(body, sizes), { boundary: 'b0undary-x' });
        assertFrames(frames, JPEGS, `${framing} in ${sizes.join('/')}-byte reads`);
      }
    });
  }

  test('each frame is its own exact-size Buffer (not a view of a shared pool or read buffer)', () => {
    const body = multipartBody('esp32', JPEGS, { boundary: 'x' });
    const { frames } = read(chunked(body, [333]), { boundary: 'x' });
    for (const f of frames) {
      assert.equal(f.byteOffset, 0);
      assert.equal(f.buffer.byteLength, f.length);
    }
  });

  test('X-Timestamp of each part reaches the frame (ms)', () => {
    const { ts } = read([multipartBody('esp32', JPEGS.slice(0, 2), { boundary: 'x' })], { boundary: 'x' });
    assert.deepEqual(ts, [1000000, 1001001]);
  });

  test('ESP32 framing without Content-Length: the last picture comes out when the body ends', () => {
    const body = multipartBody('esp32', JPEGS, { boundary: 'x', noLength: true });
    const open = read([body], { boundary: 'x' });
    assertFrames(open.frames, JPEGS.slice(0, -1), 'before the end');
    const ended = read([body], { boundary: 'x' }, true);
    assertFrames(ended.frames, JPEGS, 'after end()');
  });
});

describe('multipart reader: the boundary', () => {
  const body = multipartBody('axis', JPEGS.slice(0, 3), { boundary: 'myboundary' });
  for (const ct of [
    'multipart/x-mixed-replace;boundary=myboundary',
    'multipart/x-mixed-replace; boundary="myboundary"',
    'multipart/x-mixed-replace; boundary=--myboundary',
    'Multipart/X-Mixed-Replace; BOUNDARY="--myboundary"',
    'multipart/x-mixed-replace; boundary=MyBoundary',
    'multipart/mixed;boundary=MYBOUNDARY;charset=x',
  ]) {
    test(`Content-Type ${JSON.stringify(ct)}`, () => {
      const kind = kindFromContentType(ct);
      assert.equal(kind.kind, 'stream');
      const { frames } = read(chunked(body, [5]), { boundary: kind.kind === 'stream' ? kind.boundary : null });
      assertFrames(frames, JPEGS.slice(0, 3), ct);
    });
  }

  test('strict RFC 2046 spelling: parameter --b, body ----b', () => {
    const b = multipartBody('axis', JPEGS.slice(0, 2), { boundary: '--b' });
    assertFrames(read([b], { boundary: '--b' }).frames, JPEGS.slice(0, 2), 'strict');
  });

  test('no boundary given (application/octet-stream): learned from the first delimiter line', () => {
    const b = Buffer.concat([Buffer.from('\r\n'), multipartBody('ffmpeg', JPEGS.slice(0, 3), { boundary: 'ffmpeg' })]);
    const { frames, reader } = read(chunked(b, [3]), { boundary: null });
    assertFrames(frames, JPEGS.slice(0, 3), 'learned');
    assert.equal(reader.boundary, 'ffmpeg');
  });

  test('a preamble, and garbage between parts, are skipped and counted', () => {
    const parts = multipartBody('axis', JPEGS.slice(0, 2), { boundary: 'bb' });
    const b = Buffer.concat([Buffer.from('This is a preamble\r\nwith -- lines\r\n--b\r\n'), parts.subarray(0, parts.length - 6),
      Buffer.from('\r\njunk between parts ----bbx\r\n'), parts.subarray(parts.length - 6)]);
    const { frames, reader } = read(chunked(b, [11]), { boundary: 'bb' });
    assertFrames(frames, JPEGS.slice(0, 2), 'garbage');
    assert.ok(reader.stats.garbageBytes > 40, `garbage ${reader.stats.garbageBytes}`);
  });

  test('a delimiter split across reads at every position', () => {
    const b = multipartBody('no-length-lf', JPEGS.slice(0, 3), { boundary: 'split-me-here' });
    for (let cut = 0; cut < b.length; cut += 97) {
      const { frames } = read([b.subarray(0, cut), b.subarray(cut)], { boundary: 'split-me-here' });
      assertFrames(frames, JPEGS.slice(0, 3), `cut at ${cut}`);
    }
  });

  test('the close delimiter ends the body; what follows is ignored', () => {
    const b = Buffer.concat([multipartBody('esp32', JPEGS.slice(0, 2), { boundary: 'x' }), Buffer.from('\r\n--x--\r\n--x\r\n\r\n'), JPEGS[2]!]);
    const { frames, reader } = read([b], { boundary: 'x' }, true);
    assertFrames(frames, JPEGS.slice(0, 2), 'closed');
    assert.equal(reader.stats.closed, true);
  });
});

describe('multipart reader: wrong or hostile parts', () => {
  const part = (jpeg: Buffer, length: number | null, b = 'x'): Buffer => Buffer.concat([
    Buffer.from(`--${b}\r\nContent-Type: image/jpeg\r\n${length === null ? '' : `Content-Length: ${length}\r\n`}\r\n`), jpeg, Buffer.from('\r\n')]);

  test('Content-Length too short: the picture runs to its EOI before the next delimiter', () => {
    const b = Buffer.concat([part(JPEGS[0]!, JPEGS[0]!.length - 300), part(JPEGS[1]!, JPEGS[1]!.length), Buffer.from('--x\r\n')]);
    for (const sizes of [[b.length], [1], [13]]) {
      const { frames, reader } = read(chunked(b, sizes), { boundary: 'x' });
      assertFrames(frames, JPEGS.slice(0, 2), `short ${sizes}`);
      assert.equal(reader.stats.lengthMismatches, 1);
    }
  });

  test('Content-Length too long: the picture ends at its EOI and the next part is still read', () => {
    const b = Buffer.concat([part(JPEGS[0]!, JPEGS[0]!.length + 500), part(JPEGS[1]!, JPEGS[1]!.length), part(JPEGS[2]!, JPEGS[2]!.length), Buffer.from('--x\r\n')]);
    for (const sizes of [[b.length], [1], [13]]) {
      const { frames, reader } = read(chunked(b, sizes), { boundary: 'x' });
      assertFrames(frames, JPEGS.slice(0, 3), `long ${sizes}`);
      assert.equal(reader.stats.lengthMismatches, 1);
    }
  });

  test('a part over the frame cap is dropped and counted; memory held stays near the cap', () => {
    const big = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200000, 0x11), Buffer.from([0xff, 0xd9])]);
    for (const length of [null, big.length]) {
      const b = Buffer.concat([part(JPEGS[0]!, null), part(big, length), part(JPEGS[1]!, null), Buffer.from('--x\r\n')]);
      let peak = 0;
      const frames: Buffer[] = [];
      const r = new MultipartReader({ boundary: 'x', maxFrameBytes: 50000, onFrame: (j) => frames.push(j) });
      for (const c of chunked(b, [4096])) { r.push(c); peak = Math.max(peak, r.pendingBytes); }
      assertFrames(frames, JPEGS.slice(0, 2), `cap, length ${length}`);
      assert.equal(r.stats.oversized, 1);
      assert.ok(peak <= 50000 + 4096, `held ${peak} bytes`);
    }
  });

  test('a part that never ends holds at most the cap', () => {
    const r = new MultipartReader({ boundary: 'x', maxFrameBytes: 100000, onFrame: () => assert.fail('no frame') });
    r.push(Buffer.from('--x\r\n\r\n\xff\xd8\xff', 'latin1'));
    const junk = Buffer.alloc(65536, 0x42);
    for (let i = 0; i < 200; i++) { r.push(junk); assert.ok(r.pendingBytes <= 100000 + 65536); }
    assert.equal(r.stats.oversized, 1);
    assert.equal(r.skipping, true);
  });

  test('a delimiter line that never ends is not taken for a delimiter', () => {
    const frames: Buffer[] = [];
    const r = new MultipartReader({ boundary: 'x', onFrame: (j) => frames.push(j) });
    r.push(Buffer.from('--x\r\n\r\n', 'latin1'));
    r.push(Buffer.concat([JPEGS[0]!, Buffer.from('\r\n--x')]));
    for (let i = 0; i < 100; i++) r.push(Buffer.alloc(1000, 0x20));
    // the picture before it is complete; no part starts after it, nothing is held
    assertFrames(frames, JPEGS.slice(0, 1), 'endless line');
    assert.equal(r.pendingBytes, 0);
    assert.equal(r.stats.parts, 1);
    assert.ok(r.stats.garbageBytes >= 1024, `garbage ${r.stats.garbageBytes}`);
  });

  test('non-picture parts are skipped, empty parts and parts without SOI/EOI are counted', () => {
    const b = Buffer.concat([
      Buffer.from('--x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello\r\n'),
      Buffer.from('--x\r\nContent-Type: image/jpeg\r\nContent-Length: 0\r\n\r\n\r\n'),
      Buffer.from('--x\r\nContent-Type: image/jpeg\r\n\r\nnot a jpeg at all\r\n'),
      part(JPEGS[0]!, JPEGS[0]!.length), Buffer.from('--x\r\n'),
    ]);
    const { frames, reader } = read(chunked(b, [6]), { boundary: 'x' });
    assertFrames(frames, JPEGS.slice(0, 1), 'mixed');
    assert.equal(reader.stats.ignored, 1);
    assert.equal(reader.stats.corrupt, 2);
  });

  test('a part without headers (picture right after the delimiter line)', () => {
    const b = Buffer.concat([Buffer.from('--x\r\n'), JPEGS[0]!, Buffer.from('\r\n--x\r\n\r\n'), JPEGS[1]!, Buffer.from('\r\n--x\r\n')]);
    assertFrames(read(chunked(b, [9]), { boundary: 'x' }).frames, JPEGS.slice(0, 2), 'headerless');
  });

  test('a connection closed mid-part: nothing emitted for it, counted as truncated', () => {
    const b = multipartBody('esp32', JPEGS.slice(0, 2), { boundary: 'x' });
    const { frames, reader } = read([b.subarray(0, b.length - 100)], { boundary: 'x' }, true);
    assertFrames(frames, JPEGS.slice(0, 1), 'mid-part');
    assert.equal(reader.stats.truncated, 1);
  });
});
