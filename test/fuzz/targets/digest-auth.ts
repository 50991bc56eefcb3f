/**
 * Digest/Basic challenge and credentials parsing (RFC 7235 §2.1, RFC 7616, RFC 7617): the
 * WWW-Authenticate and Authorization values of the captures plus RFC 7616 §3.9 style
 * challenges (SHA-256, qop lists, opaque, stale, userhash, several challenges per value),
 * mutated with a dictionary of auth-param syntax. One case = one of: parseChallenges,
 * parseAuthorization + verifyAuthorization, or Authenticator.onChallenge + authorization()
 * (one authenticator answers up to 6 challenges, as across a stale/nonce-rotation dialogue).
 *
 * Invariants: nothing throws; parameter names are lower-case; onChallenge returns one of its
 * three values; 'retry' always yields an Authorization value; an Authorization built from
 * challenges without control characters contains none (no header injection).
 */
import assert from 'node:assert/strict';
import { Authenticator, parseAuthorization, parseChallenges, verifyAuthorization } from '../../../src/rtsp/auth';
import { headerValues } from '../corpus';
import type { FuzzTarget } from '../harness';
import { hasControl, mutateText, packRecords, tokens, unpackRecords, type Rng } from '../mutator';

const EXTRA_CHALLENGES = [
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  'Digest realm="IP Camera(C1234)", nonce="a1b2c3", stale="TRUE", algorithm="MD5-sess", qop=auth',
  'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true',
  'Basic realm="a", Digest realm="b", nonce="c"',
  'Negotiate, NTLM, Basic realm="x"',
  'Digest realm="r\\"q", nonce="n\\\\"',
];
const EXTRA_AUTHORIZATIONS = [
  'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  'Basic dXNlcjpwYXNz', 'Basic Og==', 'Basic ====', 'Digest',
];
const DICT = tokens(', ', ',', '=', '"', '\\', '\\"', 'Digest ', 'Basic ', 'realm=', 'nonce=', 'qop="auth"', 'qop=auth-int',
  'algorithm=SHA-256', 'algorithm=MD5-sess', 'algorithm=SHA-512-256-sess', 'algorithm=foo', 'stale=true', 'userhash=true',
  'opaque=', 'charset=UTF-8', '\t', ' ', '\r\n', '\x00', '==', '\u00ff');


function checkChallenges(values: string[]): void {
  for (const c of parseChallenges(values)) {
    assert.equal(typeof c.scheme, 'string');
    assert.equal(c.scheme, c.scheme.toLowerCase(), 'scheme not lower-case');
    for (const k of Object.keys(c.params)) assert.equal(k, k.toLowerCase(), `param name ${k} not lower-case`);
  }
}

function checkAuthorization(value: string): void {
  const a = parseAuthorization(value);
  if (a) {
    assert.equal(typeof a.scheme, 'string');
    for (const v of Object.values(a.params)) assert.equal(typeof v, 'string');
  }
  const ok = verifyAuthorization(value, { method: 'DESCRIBE', username: 'user', password: 'pass', realm: 'GStreamer RTSP Server', nonce: '168a1f59ad893589' });
  assert.equal(typeof ok, 'boolean');
}

class AuthSession {
  readonly auth = new Authenticator('user', 'p"a\\ss:w@rd', { cnonce: () => '0a4f113b' });
  /** a challenge or URI with control characters was seen (the authenticator keeps the chosen challenge) */
  private tainted = false;
  challenge(values: string[], uri: string): void {
    if (values.some((v) => hasControl(v)) || hasControl(uri)) this.tainted = true;
    const r = this.auth.onChallenge(values);
    assert.ok(r === 'retry' || r === 'failed' || r === 'unsupported', `onChallenge returned ${String(r)}`);
    const h = this.auth.authorization('DESCRIBE', uri);
    if (r === 'retry') assert.equal(typeof h, 'string', 'retry without an Authorization value');
    if (h !== null && !this.tainted) {
      assert.ok(!hasControl(h), `control character in Authorization: ${JSON.stringify(h)}`);
    }
  }
}

/** Reproducer records: kind ("c" challenges, "a" authorization, "s" authenticator step: uri first), values… */
function replayRecords(recs: Buffer[]): void {
  let auth: AuthSession | null = null;
  let i = 0;
  while (i < recs.length) {
    const kind = recs[i++]!.toString('latin1');
    const n = Number(recs[i++]!.toString('latin1'));
    const vals = recs.slice(i, i + n).map((b) => b.toString('utf8'));
    i += n;
    if (kind === 'c') checkChallenges(vals);
    else if (kind === 'a') checkAuthorization(vals[0] ?? '');
    else { auth ??= new AuthSession(); auth.challenge(vals.slice(1), vals[0] ?? ''); }
  }
}

export function digestAuthTarget(): FuzzTarget {
  return {
    name: 'digest-auth',
    unit: 'one parseChallenges, parseAuthorization+verifyAuthorization, or Authenticator.onChallenge+authorization call',
    start() {
      const challenges = [...headerValues('www-authenticate'), ...EXTRA_CHALLENGES];
      const authorizations = [...headerValues('authorization'), ...EXTRA_AUTHORIZATIONS];
      const seedsAll = [...challenges, ...authorizations];
      let log: Buffer[] = [];
      let session: AuthSession | null = null;
      let stepsLeft = 0;
      let retries = 0;
      const mut = (rng: Rng, s: string): string => (rng.chance(1, 8) ? s
        : mutateText(rng, s, { maxLength: 2048, dictionary: DICT, other: Buffer.from(rng.pick(seedsAll), 'latin1') }));
      const rec = (kind: string, vals: string[]): void => {
        log.push(Buffer.from(kind), Buffer.from(String(vals.length)), ...vals.map((v) => Buffer.from(v, 'utf8')));
      };
      return {
        step(rng: Rng) {
          const k = rng.int(3);
          if (k === 0) {
            const vals = Array.from({ length: rng.range(1, 3) }, () => mut(rng, rng.pick(challenges)));
            log = [];
            rec('c', vals);
            checkChallenges(vals);
          } else if (k === 1) {
            const v = mut(rng, rng.pick(authorizations));
            log = [];
            rec('a', [v]);
            checkAuthorization(v);
          } else {
            if (!session || stepsLeft-- <= 0) { session = new AuthSession(); stepsLeft = rng.range(1, 6); log = []; }
            const vals = Array.from({ length: rng.range(1, 2) }, () => mut(rng, rng.pick(challenges)));
            const uri = rng.chance(1, 8) ? mut(rng, 'rtsp://127.0.0.1:18580/cam/') : 'rtsp://127.0.0.1:18580/cam/';
            rec('s', [uri, ...vals]);
            session.challenge(vals, uri);
            if (session.auth.scheme) retries++;
          }
        },
        reproducer: () => packRecords(log),
        summary: () => `${retries} authenticator steps produced credentials`,
      };
    },
    replay(input: Buffer) { replayRecords(unpackRecords(input)); },
  };
}
