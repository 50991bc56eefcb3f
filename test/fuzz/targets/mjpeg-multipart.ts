/**
 * The HTTP MJPEG body path: chunked transfer coding (RFC 9112 §7.1) into the multipart reader
 * (RFC 2046 §5.1.1). Seeds are bodies framed the way ESP32, mjpg-streamer, Axis, FFmpeg and
 * motion frame them (test/support/mjpeg-wire.ts), with small synthetic pictures so a case is
 * cheap, plus chunked-encoded variants; mutated with a multipart dictionary and pushed in
 * random reads through a fresh reader with default or tight limits. One case = one mutated
 * body through one reader, then the same bytes again in other reads.
 *
 * Invariants: push() and end() never throw; every frame is one SOI … EOI picture in its own
 * exact-size Buffer no larger than the cap; the bytes held never exceed the cap plus one
 * read; the frames do not depend on how the body was split into reads, nor on whether each
 * read buffer is overwritten as soon as push() returned (`reusedChunks`).
 */
import assert from 'node:assert/strict';
import { MultipartReader } from '../../../src/mjpeg/multipart-reader';
import { ChunkedDecoder } from '../../../src/mjpeg/chunked-decoder';
import type { FuzzTarget } from '../harness';
import { mutate, tokens, type Rng } from '../mutator';
import { chunked, multipartBody, type Framing } from '../../support/mjpeg-wire';

/** A small picture-shaped blob: SOI, an APP0-like segment, bytes, EOI. */
function blob(n: number, fill: number): Buffer {
  const b = Buffer.alloc(n, fill);
  b[0] = 0xff; b[1] = 0xd8; b[2] = 0xff; b[3] = 0xe0;
  b[n - 2] = 0xff; b[n - 1] = 0xd9;
  return b;
}

const PICS = [blob(40, 0x11), blob(97, 0x22), blob(160, 0x33), blob(23, 0xd9)];
const FRAMINGS: Framing[] = ['esp32', 'mjpg-streamer', 'axis', 'ffmpeg', 'motion', 'no-length-lf'];
const BOUNDARY = 'bndry42';

function toChunked(body: Buffer, size: number): Buffer {
  const out: Buffer[] = [];
  for (let o = 0; o < body.length; o += size) {
    const part = body.subarray(o, o + size);
    out.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
  }
  out.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(out);
}

/** Seeds: flag byte (0 plain, 1 chunked, 2 learn the boundary) + body. */
const SEEDS: Buffer[] = [];
for (const f of FRAMINGS) {
  for (const noLength of [false, true]) {
    const body = multipartBody(f, PICS, { boundary: BOUNDARY, noLength });
    SEEDS.push(Buffer.concat([Buffer.from([0]), body]));
    SEEDS.push(Buffer.concat([Buffer.from([1]), toChunked(body, 61)]));
    SEEDS.push(Buffer.concat([Buffer.from([2]), body]));
  }
}
const DICT = tokens('\r\n', '\n', '\r\n\r\n', `--${BOUNDARY}`, `\r\n--${BOUNDARY}\r\n`, `--${BOUNDARY}--`, `--${BOUNDARY.toUpperCase()}`,
  'Content-Length: ', 'Content-Length: 0', 'Content-Length: 99999999999', 'Content-Type: image/jpeg', 'Content-Type: text/plain',
  'X-Timestamp: 12.5', '\xff\xd8\xff', '\xff\xd9', '0\r\n\r\n', 'ff\r\n', ';ext=1');
const TIGHT = { maxFrameBytes: 120, maxHeaderBytes: 96 };

interface Run { frames: string[]; peak: number }

function check(input: Buffer, sizes: readonly number[], tight: boolean, reuse = false): Run {
  const mode = input.length > 0 ? input[0]! % 3 : 0;
  const body = input.subarray(1);
  const limits = tight ? TIGHT : {};
  const cap = tight ? TIGHT.maxFrameBytes : 16 * 1024 * 1024;
  const frames: string[] = [];
  const reader = new MultipartReader({
    boundary: mode === 2 ? null : BOUNDARY, ...limits, reusedChunks: reuse,
    onFrame(jpeg) {
      assert.ok(jpeg.length >= 4 && jpeg.length <= cap, `frame of ${jpeg.length} bytes (cap ${cap})`);
      assert.ok(jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg[jpeg.length - 2] === 0xff && jpeg[jpeg.length - 1] === 0xd9, 'frame is not SOI … EOI');
      assert.ok(jpeg.byteOffset === 0 && jpeg.buffer.byteLength === jpeg.length, 'frame is not its own Buffer');
      frames.push(jpeg.toString('hex'));
    },
  });
  let peak = 0;
  let maxRead = 0;
  const decoder = mode === 1 ? new ChunkedDecoder((d) => { reader.push(d); }) : null;
  for (const slice of chunked(body, sizes)) {
    // a reader told the reads are reused gets a buffer that is scribbled over after push()
    const read = reuse ? Buffer.from(slice) : slice;
    maxRead = Math.max(maxRead, read.length);
    if (decoder) {
      const r = decoder.push(read);
      if (r.state === 'error') assert.ok(r.message.length < 200, 'chunked error message length');
      if (r.state !== 'more') break;
    } else {
      reader.push(read);
    }
    if (reuse) read.fill(0xee);
    peak = Math.max(peak, reader.pendingBytes);
    assert.ok(reader.pendingBytes <= cap + maxRead + 256, `${reader.pendingBytes} bytes held (cap ${cap}, read ${maxRead})`);
  }
  reader.end();
  return { frames, peak };
}

/** Whole, byte by byte and in 7-byte reads, both limit sets, reads kept or reused: the same frames every time. */
export function replayMultipart(input: Buffer): void {
  for (const tight of [false, true]) {
    const runs = [[input.length || 1], [1], [7]].flatMap((s) => [check(input, s, tight).frames, check(input, s, tight, true).frames]);
    for (const r of runs.slice(1)) assert.deepEqual(r, runs[0], `frames depend on the read sizes or on reused reads (tight=${tight})`);
  }
}

export function mjpegMultipartTarget(): FuzzTarget {
  return {
    name: 'mjpeg-multipart',
    unit: 'one mutated MJPEG body through chunked decoding and a fresh multipart reader, in two read patterns',
    start() {
      let input: Buffer = Buffer.alloc(0);
      let frames = 0;
      return {
        step(rng: Rng) {
          input = mutate(rng, rng.pick(SEEDS), { maxLength: 4096, dictionary: DICT, other: rng.pick(SEEDS) });
          const tight = rng.chance(1, 3);
          const sizes = Array.from({ length: 1 + rng.int(3) }, () => 1 + rng.int(rng.chance(1, 2) ? 9 : 700));
          const a = check(input, sizes, tight, rng.chance(1, 2));
          const b = check(input, [input.length || 1], tight);
          assert.deepEqual(a.frames, b.frames, 'frames depend on the read sizes or on reused reads');
          frames += a.frames.length;
        },
        reproducer: () => input,
        summary: () => `${frames} frames`,
      };
    },
    replay: replayMultipart,
  };
}
