/**
 * Fuzz: the HTTP MJPEG body path (chunked transfer coding → multipart reader). Bulk: CI_CASES
 * mutated bodies in random reads. Structure-aware: fast-check builds well-formed streams in
 * every server framing from arbitrary pictures, boundaries, preambles, garbage between parts
 * and read splits, with reads kept or scribbled over after each push; every picture must come
 * out exactly once, byte for byte.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { mjpegMultipartTarget, replayMultipart } from './targets/mjpeg-multipart';
import { MultipartReader } from '../../src/mjpeg/multipart-reader';
import { ChunkedDecoder } from '../../src/mjpeg/chunked-decoder';
import { chunked, multipartBody, type Framing } from '../support/mjpeg-wire';

const picture = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((inner) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(inner), Buffer.from([0xff, 0xd9])]));
const framing = fc.constantFrom<Framing>('esp32', 'mjpg-streamer', 'axis', 'ffmpeg', 'motion', 'no-length-lf');
const boundary = fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{6,40}$/).filter((b) => !b.startsWith('-') && !b.endsWith('-'));
const sizes = fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 4 });

describe('fuzz: HTTP MJPEG multipart reader', () => {
  bulkTest(mjpegMultipartTarget, 'mutated MJPEG bodies');

  test('fast-check: well-formed streams give every picture once, in any reads, boundary given or learned', () => {
    fc.assert(fc.property(framing, fc.array(picture, { minLength: 1, maxLength: 6 }), boundary, fc.boolean(), fc.boolean(), sizes, fc.boolean(), fc.boolean(),
      (f, pics, b, noLength, learn, s, viaChunked, reuse) => {
        // a no-length part ends only at "\n--boundary": keep it out of the pictures
        const wanted = noLength || f === 'no-length-lf' ? pics.filter((p) => !p.includes(Buffer.from(`\n--${b}`))) : pics;
        let body = multipartBody(f, wanted, { boundary: b, noLength });
        if (viaChunked) body = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
        const got: Buffer[] = [];
        const reader = new MultipartReader({ boundary: learn ? null : `--${b}`, reusedChunks: reuse, onFrame: (j) => got.push(j) });
        const dec = viaChunked ? new ChunkedDecoder((d) => reader.push(d)) : null;
        for (const slice of chunked(body, s)) {
          const r = reuse ? Buffer.from(slice) : slice;
          if (dec) dec.push(r);
          else reader.push(r);
          if (reuse) r.fill(0xee);
        }
        reader.end();
        assert.equal(got.length, wanted.length);
        got.forEach((g, i) => assert.ok(g.equals(wanted[i]!), `picture ${i}`));
      }), { numRuns: 1500, seed: CI_SEED });
  });

  test('fast-check: garbage around parts and a wrong Content-Length never yield a broken frame', () => {
    fc.assert(fc.property(fc.array(fc.tuple(picture, fc.integer({ min: -50, max: 50 }), fc.uint8Array({ maxLength: 30 })), { minLength: 1, maxLength: 5 }),
      (parts) => {
        const body = Buffer.concat(parts.flatMap(([p, delta, junk]) => [Buffer.from(junk),
          Buffer.from(`\r\n--zz9zz\r\nContent-Type: image/jpeg\r\nContent-Length: ${Math.max(1, p.length + delta)}\r\n\r\n`), p]));
        replayMultipart(Buffer.concat([Buffer.from([2]), body, Buffer.from('\r\n--zz9zz--\r\n')]));
      }), { numRuns: 1000, seed: CI_SEED });
  });
});
