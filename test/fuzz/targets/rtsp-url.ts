/**
 * RTSP URL parser and control resolution (RFC 2326 §3.2, §C.1.1): the Request-URIs,
 * Content-Base and RTP-Info urls of the captures plus camera-style URLs (credentials with raw
 * '@' '#' '%', IPv6, queries), mutated with URL syntax. One case = one parseRtspUrl call plus
 * one resolveControl call (mutated control against a mutated base).
 *
 * Invariants: nothing throws; a parsed URL has a port 1..65535, a non-empty host, a path that
 * starts with '/' and holds no space or control character (it goes on the request line), and
 * a `clean` form whose authority has no credentials ('@'); resolveControl returns a string.
 */
import assert from 'node:assert/strict';
import { parseRtspUrl, resolveControl } from '../../../src/rtsp/url';
import { controlSeeds, urlSeeds } from '../corpus';
import type { FuzzTarget } from '../harness';
import { hasControl, mutateText, tokens, type Rng } from '../mutator';

const EXTRA_URLS = [
  'rtsp://admin:p@ss#w%rd@192.168.1.10:554/Streaming/Channels/101?transportmode=unicast',
  'rtsp://[fe80::1%25eth0]:8554/cam', 'rtsps://user@cam.example/live', 'rtsp://h/cam/realmonitor?channel=1&subtype=0',
  'RTSP://HOST:0/x', 'rtsp://h:65536/', 'rtsp://h?x', 'rtsp://u:%zz@h/a%20b',
];
const DICT = tokens('@', ':', '/', '//', '?', '#', '%', '%25', '%00', '%zz', '[', ']', '[::1]', ':554', ':65535', ':99999',
  'rtsp://', 'rtsps://', 'user:pass@', ' ', '\t', '\r\n', '\u00e9', '..', '*', 'trackID=1');

export function checkUrl(url: string): void {
  const u = parseRtspUrl(url);
  if (u === null) return;
  assert.ok(Number.isInteger(u.port) && u.port >= 1 && u.port <= 65535, `port ${u.port}`);
  assert.ok(u.host.length > 0, 'empty host');
  assert.ok(u.path.startsWith('/'), `path ${JSON.stringify(u.path)}`);
  assert.ok(!hasControl(u.path, true), `space/control in request path ${JSON.stringify(u.path)}`);
  const authority = u.clean.replace(/^rtsps?:\/\//, '').split('/')[0]!;
  assert.ok(!authority.includes('@'), `credentials left in clean URL ${JSON.stringify(u.clean)}`);
}

export function checkResolve(control: string, base: string): void {
  assert.equal(typeof resolveControl(control, base), 'string');
  assert.equal(typeof resolveControl(control, base, { query: 'path' }), 'string');
}

export function rtspUrlTarget(): FuzzTarget {
  return {
    name: 'rtsp-url',
    unit: 'one parseRtspUrl call and one resolveControl call',
    start() {
      const urls = [...urlSeeds(), ...EXTRA_URLS];
      const controls = controlSeeds();
      let url = '';
      let control = '';
      let base = '';
      let parsed = 0;
      const mut = (rng: Rng, s: string): string => mutateText(rng, s, { maxLength: 600, dictionary: DICT, other: Buffer.from(rng.pick(urls), 'latin1') });
      return {
        step(rng: Rng) {
          url = mut(rng, rng.pick(urls));
          control = rng.chance(1, 2) ? mut(rng, rng.pick(controls)) : rng.pick(controls);
          base = rng.chance(1, 2) ? mut(rng, rng.pick(urls)) : rng.pick(urls);
          checkUrl(url);
          if (parseRtspUrl(url)) parsed++;
          checkResolve(control, base);
        },
        reproducer: () => Buffer.from(JSON.stringify({ url, control, base }), 'utf8'),
        summary: () => `${parsed} URLs accepted`,
      };
    },
    replay(input: Buffer) {
      const { url, control, base } = JSON.parse(input.toString('utf8')) as { url: string; control: string; base: string };
      checkUrl(url);
      checkResolve(control, base);
    },
  };
}
