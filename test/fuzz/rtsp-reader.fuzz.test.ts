/**
 * Fuzz: RTSP reader incl. interleaved framing. Bulk: CI_CASES push() calls of mutated real
 * TCP streams in random chunkings, buffered bytes checked against the limits after every push.
 * Structure-aware: fast-check interleaves arbitrary messages and `$` frames and checks that an
 * unmutated stream comes out exactly, whatever the chunking.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RtspReader } from '../../src/rtsp/message';
import { serializeResponse, interleavedFrame } from '../../src/rtsp/serialize';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { rtspReaderTarget } from './targets/rtsp-reader';

describe('fuzz: RTSP reader', () => {
  bulkTest(rtspReaderTarget, 'pushes of mutated real TCP streams, buffers within limits');

  test('fast-check: well-formed responses and $ frames survive any chunking unchanged', () => {
    const item = fc.oneof(
      fc.record({ kind: fc.constant('frame' as const), channel: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 2000 }) }),
      fc.record({ kind: fc.constant('res' as const), status: fc.integer({ min: 100, max: 599 }), cseq: fc.nat({ max: 1e6 }), body: fc.string({ maxLength: 300 }) }),
    );
    fc.assert(fc.property(fc.array(item, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 10 }), (items, sizes) => {
      const wire = Buffer.concat(items.map((it) => it.kind === 'frame'
        ? interleavedFrame(it.channel, Buffer.from(it.payload))
        : serializeResponse(it.status, 'X', [['CSeq', String(it.cseq)]], it.body)));
      const got: string[] = [];
      const r = new RtspReader({
        onResponse: (res) => got.push(`res ${res.statusCode} ${res.cseq} ${res.body.toString('hex')}`),
        onRequest: () => got.push('req'),
        onInterleaved: (ch, d, s, e) => got.push(`frame ${ch} ${d.toString('hex', s, e)}`),
        onError: (e) => got.push(`error ${e.message}`),
      });
      for (let o = 0, k = 0; o < wire.length; k++) { const n = sizes[k % sizes.length]!; r.push(wire.subarray(o, o + n)); o += n; }
      const want = items.map((it) => it.kind === 'frame'
        ? `frame ${it.channel} ${Buffer.from(it.payload).toString('hex')}`
        : `res ${it.status} ${it.cseq} ${Buffer.from(it.body).toString('hex')}`);
      assert.deepEqual(got, want);
    }), { numRuns: 2000, seed: CI_SEED });
  });
});
