/**
 * Fuzz: RTSP URL parser and control resolution. Bulk: CI_CASES mutated real and camera-style
 * URLs. Structure-aware: fast-check assembles URLs from arbitrary userinfo, host, port, path.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRtspUrl } from '../../src/rtsp/url';
import { hasControl } from './mutator';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { checkResolve, checkUrl, rtspUrlTarget } from './targets/rtsp-url';

describe('fuzz: RTSP URL parser', () => {
  bulkTest(rtspUrlTarget, 'mutated URLs and controls');

  test('fast-check: assembled URLs keep user, password and host apart', () => {
    const user = fc.string({ maxLength: 10 }).filter((s) => !/[:/]/.test(s) && !hasControl(s));
    const pass = fc.string({ maxLength: 10 }).filter((s) => !s.includes('/') && !hasControl(s));
    const host = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/);
    fc.assert(fc.property(user, pass, host, fc.integer({ min: 1, max: 65535 }), fc.string({ maxLength: 30 }), (u, p, h, port, path) => {
      const url = `rtsp://${u}:${p}@${h}:${port}/${path}`;
      checkUrl(url);
      checkResolve(path, url);
      const r = parseRtspUrl(url);
      // A '@' in the path after a userinfo reads as the end of a raw password holding '/'
      // (rtsp/url.ts splitUserinfo), so the host is asserted for '@'-free paths.
      if (r && !/[@?#]/.test(u + p) && !path.includes('@') && !hasControl(path)) {
        assert.equal(r.host, h);
        assert.equal(r.port, port);
      }
    }), { numRuns: 3000, seed: CI_SEED });
  });
});
