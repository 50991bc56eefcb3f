/**
 * Fuzz: WWW-Authenticate / Authorization parsing and the Digest authenticator. Bulk: CI_CASES
 * mutated real and RFC 7616 challenge/credential values. Structure-aware: fast-check builds
 * challenges from arbitrary auth-params (quoted and bare, escapes, duplicate names).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Authenticator, parseChallenges } from '../../src/rtsp/auth';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { digestAuthTarget } from './targets/digest-auth';

describe('fuzz: Digest/Basic challenge parser', () => {
  bulkTest(digestAuthTarget, 'mutated challenges and credentials');

  test('fast-check: challenges built from arbitrary auth-params parse and can be answered', () => {
    const name = fc.constantFrom('realm', 'nonce', 'qop', 'algorithm', 'opaque', 'stale', 'userhash', 'charset', 'domain', 'x');
    const value = fc.oneof(fc.string({ maxLength: 20 }).map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`), fc.stringMatching(/^[A-Za-z0-9-]{0,12}$/));
    const challenge = fc.tuple(fc.constantFrom('Digest', 'Basic', 'digest', 'Bearer'), fc.array(fc.tuple(name, value), { maxLength: 8 }))
      .map(([scheme, ps]) => `${scheme} ${ps.map(([n, v]) => `${n}=${v}`).join(', ')}`);
    fc.assert(fc.property(fc.array(challenge, { minLength: 1, maxLength: 3 }), (values) => {
      const parsed = parseChallenges(values);
      assert.ok(parsed.length <= values.length * 9);
      const a = new Authenticator('u', 'p', { cnonce: () => 'c' });
      const r = a.onChallenge(values);
      const h = a.authorization('PLAY', 'rtsp://h/x');
      if (r === 'retry') assert.ok(h && !/[\r\n]/.test(h));
    }), { numRuns: 3000, seed: CI_SEED });
  });
});
