/**
 * Fuzz: SDP-to-track mapping. Bulk: CI_CASES mutated real SDPs (bytes and lines).
 * Structure-aware: fast-check assembles SDPs from arbitrary m=, rtpmap, control, size and
 * connection lines.
 */
import { test, describe } from 'node:test';
import fc from 'fast-check';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { checkSdp, sdpTracksTarget } from './targets/sdp-tracks';

describe('fuzz: SDP to tracks', () => {
  bulkTest(sdpTracksTarget, 'mutated real SDPs');

  test('fast-check: SDPs assembled from arbitrary media and attribute lines', () => {
    const word = fc.string({ maxLength: 12 });
    const num = fc.oneof(fc.integer({ min: -5, max: 200000 }).map(String), word);
    const media = fc.record({
      kind: fc.constantFrom('video', 'audio', 'application', ''),
      fmts: fc.array(num, { minLength: 0, maxLength: 3 }),
      attrs: fc.array(fc.oneof(
        fc.tuple(num, word, num).map(([pt, enc, rate]) => `a=rtpmap:${pt} ${enc}/${rate}`),
        word.map((c) => `a=control:${c}`),
        fc.tuple(num, num).map(([w, h]) => `a=x-dimensions:${w},${h}`),
        fc.tuple(num, num, num).map(([pt, w, h]) => `a=framesize:${pt} ${w}-${h}`),
        num.map((f) => `a=framerate:${f}`),
        fc.tuple(num, num).map(([a, t]) => `c=IN IP4 ${a}/${t}`),
        word.map((w) => `a=${w}`),
      ), { maxLength: 6 }),
    });
    const base = fc.constantFrom('rtsp://127.0.0.1:8554/cam', 'rtsp://h/a?b=1', '', 'x');
    fc.assert(fc.property(fc.array(media, { maxLength: 4 }), word, base, (ms, sessionControl, b) => {
      const lines = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=x', 't=0 0', `a=control:${sessionControl}`];
      for (const m of ms) lines.push(`m=${m.kind} 0 RTP/AVP ${m.fmts.join(' ')}`, ...m.attrs);
      checkSdp(lines.join('\r\n') + '\r\n', b);
    }), { numRuns: 3000, seed: CI_SEED });
  });
});
