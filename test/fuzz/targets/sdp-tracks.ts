/**
 * SDP-to-track mapping (RFC 4566 via sdp-transform + camera attributes): the DESCRIBE bodies
 * of the vectors mutated byte-wise with an SDP dictionary and line-wise (lines dropped,
 * duplicated, swapped, moved across m= sections), against real or mutated base URLs.
 * One case = one parseSdp call.
 *
 * Invariants: never throws; null or { tracks[], sessionControl: string }; every track has a
 * payload type 0..127, an integer clock rate ≥ 0, a string control; width/height positive
 * integers and fps a positive finite number when present.
 */
import assert from 'node:assert/strict';
import { parseSdp } from '../../../src/sdp/media';
import { sdpSeeds, urlSeeds } from '../corpus';
import type { FuzzTarget } from '../harness';
import { mutateText, tokens, type Rng } from '../mutator';

const DICT = tokens('\r\n', '\n', 'm=video 0 RTP/AVP 26\r\n', 'm=video 0 RTP/AVP 96 97\r\n', 'm=audio 0 RTP/AVP 0\r\n',
  'a=rtpmap:96 JPEG/90000\r\n', 'a=rtpmap:26 JPEG/90000/2\r\n', 'a=control:', 'a=control:*\r\n', 'a=control:rtsp://10.0.0.1/x\r\n',
  'a=control:/abs\r\n', 'a=x-dimensions:', 'a=x-dimensions:2560,1440\r\n', 'a=framesize:26 640-480\r\n', 'a=framerate:',
  'a=cliprect:0,0,1080,1920\r\n', 'c=IN IP4 239.0.0.1/255\r\n', 'c=IN IP6 ff0e::1\r\n', 'a=fmtp:96 ', 'a=range:npt=0-\r\n',
  'b=AS:5000\r\n', '99999999999', '-1', ':', '/', ',', ' ', '=', '\t', '\u00e9');

/** Parses and checks; returns the number of tracks (0 for null). */
export function checkSdp(sdp: string, base: string): number {
  const d = parseSdp(sdp, base);
  if (d === null) return 0;
  assert.ok(Array.isArray(d.tracks));
  assert.equal(typeof d.sessionControl, 'string');
  for (const t of d.tracks) {
    assert.equal(typeof t.kind, 'string');
    assert.ok(Number.isInteger(t.payloadType) && t.payloadType >= 0 && t.payloadType <= 127, `payloadType ${t.payloadType}`);
    assert.ok(Number.isInteger(t.clockRate) && t.clockRate >= 0, `clockRate ${t.clockRate}`);
    assert.equal(typeof t.encoding, 'string');
    assert.equal(typeof t.control, 'string');
    if (t.width !== undefined) assert.ok(Number.isInteger(t.width) && t.width > 0, `width ${t.width}`);
    if (t.height !== undefined) assert.ok(Number.isInteger(t.height) && t.height > 0, `height ${t.height}`);
    if (t.fps !== undefined) assert.ok(Number.isFinite(t.fps) && t.fps > 0, `fps ${t.fps}`);
  }
  return d.tracks.length;
}

function mutateLines(rng: Rng, sdp: string, other: string): string {
  const lines = sdp.split('\r\n');
  const o = other.split('\r\n');
  const ops = rng.range(1, 3);
  for (let k = 0; k < ops; k++) {
    const i = rng.int(lines.length);
    switch (rng.int(4)) {
      case 0: lines.splice(i, 1); break;
      case 1: lines.splice(i, 0, lines[rng.int(lines.length)] ?? ''); break;
      case 2: { const j = rng.int(lines.length); const t = lines[i]!; lines[i] = lines[j]!; lines[j] = t; break; }
      default: lines.splice(i, 0, rng.pick(o)); break;
    }
  }
  return lines.join(rng.chance(1, 8) ? '\n' : '\r\n');
}

/** Reproducer: base URL, NUL, SDP (latin1). */
function pack(sdp: string, base: string): Buffer {
  return Buffer.concat([Buffer.from(base, 'utf8'), Buffer.from([0]), Buffer.from(sdp, 'utf8')]);
}

export function sdpTracksTarget(): FuzzTarget {
  return {
    name: 'sdp-tracks',
    unit: 'one parseSdp call on a mutated real SDP',
    start() {
      const seeds = sdpSeeds();
      const bases = urlSeeds();
      let sdp = '';
      let base = '';
      let tracks = 0;
      return {
        step(rng: Rng) {
          const seed = rng.pick(seeds);
          sdp = rng.chance(1, 3) ? mutateLines(rng, seed, rng.pick(seeds)) : seed;
          if (rng.chance(3, 4)) sdp = mutateText(rng, sdp, { maxLength: 4096, dictionary: DICT, other: Buffer.from(rng.pick(seeds), 'latin1') });
          base = rng.pick(bases);
          if (rng.chance(1, 8)) base = mutateText(rng, base, { maxLength: 300, dictionary: tokens('?', '/', '#', '@', '%', ':') });
          tracks += checkSdp(sdp, base);
        },
        reproducer: () => pack(sdp, base),
        summary: () => `${tracks} tracks mapped`,
      };
    },
    replay(input: Buffer) {
      const z = input.indexOf(0);
      checkSdp(input.subarray(z + 1).toString('utf8'), input.subarray(0, Math.max(z, 0)).toString('utf8'));
    },
  };
}
