import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  Authenticator, parseChallenges, parseAuthorization, digestResponse, digestChallenge, verifyAuthorization,
} from '../../src/rtsp/auth';
import { readPcap, rtspText } from '../support/pcap';

const VECTORS = join(__dirname, '..', 'fixtures', 'vectors');

describe('digestResponse', () => {
  // RFC 7616 §3.9.1
  const rfc = {
    username: 'Mufasa', password: 'Circle of Life', realm: 'http-auth@example.org',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    nc: '00000001', qop: 'auth', uri: '/dir/index.html', method: 'GET',
  };
  test('RFC 7616 §3.9.1 MD5 and SHA-256 vectors', () => {
    assert.equal(digestResponse({ ...rfc, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
    assert.equal(digestResponse({ ...rfc, algorithm: 'SHA-256' }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    assert.equal(digestResponse({ ...rfc, algorithm: 'sha-256' }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    assert.equal(digestResponse({ ...rfc, algorithm: 'SHA-1' }), '');
  });

  test('RFC 2617 §3.5 example (MD5, qop=auth)', () => {
    assert.equal(digestResponse({
      algorithm: 'MD5', username: 'Mufasa', password: 'Circle Of Life', realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', cnonce: '0a4f113b', nc: '00000001', qop: 'auth', method: 'GET', uri: '/dir/index.html',
    }), '6629fae49393a05397450978507c4ef1');
  });

  test("ffmpeg's Authorization headers in the GStreamer Digest capture (user/pass, no qop)", () => {
    const texts = rtspText(readPcap(join(VECTORS, 'gst-digest-auth-tcp.pcap')));
    const client = [...texts].find(([k]) => k.endsWith('>127.0.0.1:18580'))![1];
    const requests = client.split('\r\n\r\n').filter((r) => /Authorization: Digest/.test(r));
    assert.equal(requests.length, 4);
    for (const r of requests) {
      const method = r.split(' ')[0]!;
      const value = /Authorization: (.*)/.exec(r)![1]!;
      const a = parseAuthorization(value)!;
      assert.equal(a.scheme, 'digest');
      const p = a.params;
      assert.equal(p['username'], 'user');
      assert.equal(digestResponse({ algorithm: 'MD5', username: 'user', password: 'pass', realm: p['realm']!, nonce: p['nonce']!, uri: p['uri']!, method }), p['response']);
      assert.ok(verifyAuthorization(value, { method, username: 'user', password: 'pass', realm: 'GStreamer RTSP Server', nonce: '168a1f59ad893589' }));
      assert.ok(!verifyAuthorization(value, { method, username: 'user', password: 'wrong', realm: 'GStreamer RTSP Server' }));
    }
    // and our Authenticator produces the same header for the same challenge
    const server = [...texts].find(([k]) => k.startsWith('127.0.0.1:18580>'))![1];
    const challenge = /WWW-Authenticate: (.*)\r\n/.exec(server)![1]!;
    const auth = new Authenticator('user', 'pass');
    assert.equal(auth.onChallenge([challenge]), 'retry');
    const first = requests[0]!;
    const uri = first.split(' ')[1]!;
    assert.equal(auth.authorization('DESCRIBE', uri), /Authorization: (.*)/.exec(first)![1]);
  });
});

describe('parseChallenges', () => {
  test('several headers, several challenges per header, quoting and escapes', () => {
    const c = parseChallenges([
      'Digest realm="Hik\\"vision", nonce="abc, def", stale="FALSE", algorithm=MD5, Basic realm="r2"',
      'Basic realm=plain',
      '  ,Negotiate abc123==, Digest  realm = "x" ,nonce=n1',
    ]);
    assert.deepEqual(c, [
      { scheme: 'digest', params: { realm: 'Hik"vision', nonce: 'abc, def', stale: 'FALSE', algorithm: 'MD5' } },
      { scheme: 'basic', params: { realm: 'r2' } },
      { scheme: 'basic', params: { realm: 'plain' } },
      { scheme: 'negotiate', params: { token68: 'abc123==' } },
      { scheme: 'digest', params: { realm: 'x', nonce: 'n1' } },
    ]);
  });

  test('never throws on random input', () => {
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 200 }), { maxLength: 4 }), (values) => {
      parseChallenges(values);
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.array(fc.constantFrom('Digest', 'Basic', ' ', ',', '=', '"', '\\', 'realm', 'nonce', 'x', '=='), { maxLength: 40 }), (parts) => {
      parseChallenges([parts.join('')]);
      parseAuthorization(parts.join(''));
    }), { numRuns: 500 });
  });
});

describe('Authenticator', () => {
  const fixedCnonce = { cnonce: (): string => '0a4f113b' };

  test('nothing before a challenge; Basic with ":" in the password', () => {
    const a = new Authenticator('admin', 'pa:ss@word');
    assert.equal(a.authorization('DESCRIBE', 'rtsp://h/x'), null);
    assert.equal(a.scheme, null);
    assert.equal(a.onChallenge(['Basic realm="cam"']), 'retry');
    assert.equal(a.scheme, 'basic');
    const v = a.authorization('DESCRIBE', 'rtsp://h/x')!;
    assert.equal(v, `Basic ${Buffer.from('admin:pa:ss@word').toString('base64')}`);
    const parsed = parseAuthorization(v)!;
    assert.equal(parsed.params['username'], 'admin');
    assert.equal(parsed.params['password'], 'pa:ss@word');
    assert.ok(verifyAuthorization(v, { method: 'X', username: 'admin', password: 'pa:ss@word', realm: 'cam' }));
  });

  test('GStreamer-style Digest (no qop): RFC 2069 form, no algorithm echoed when none was sent', () => {
    const a = new Authenticator('user', 'pass');
    assert.equal(a.onChallenge(['Digest realm="R", nonce="N"']), 'retry');
    const v = a.authorization('SETUP', 'rtsp://h/cam/stream=0')!;
    const expected = digestResponse({ algorithm: 'MD5', username: 'user', password: 'pass', realm: 'R', nonce: 'N', uri: 'rtsp://h/cam/stream=0', method: 'SETUP' });
    assert.equal(v, `Digest username="user", realm="R", nonce="N", uri="rtsp://h/cam/stream=0", response="${expected}"`);
  });

  test('qop=auth: cnonce, opaque echoed, nc increments per request and restarts with a new nonce', () => {
    const a = new Authenticator('Mufasa', 'Circle Of Life', fixedCnonce);
    assert.equal(a.onChallenge(['Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"']), 'retry');
    const v1 = a.authorization('GET', '/dir/index.html')!;
    assert.equal(v1, 'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001, cnonce="0a4f113b"');
    const v2 = a.authorization('GET', '/dir/index.html')!;
    assert.match(v2, /nc=00000002/);
    assert.ok(verifyAuthorization(v2, { method: 'GET', username: 'Mufasa', password: 'Circle Of Life', realm: 'testrealm@host.com' }));
    a.onSuccess();
    // stale nonce → new nonce, nc restarts
    assert.equal(a.onChallenge(['Digest realm="testrealm@host.com", qop="auth", nonce="fresh", stale=true']), 'retry');
    assert.match(a.authorization('GET', '/x')!, /nonce="fresh".*nc=00000001/);
  });

  test('the strongest supported challenge is chosen, unparsable ones skipped', () => {
    const pick = (values: string[]): string | null => {
      const a = new Authenticator('u', 'p');
      if (a.onChallenge(values) !== 'retry') return null;
      const v = a.authorization('DESCRIBE', 'rtsp://h/')!;
      return `${a.scheme} ${/algorithm=([^,]*)/.exec(v)?.[1] ?? ''}`.trim();
    };
    assert.equal(pick(['Basic realm="a"', 'Digest realm="a", nonce="n"']), 'digest');
    assert.equal(pick(['Digest realm="a", nonce="n"', 'Basic realm="a"']), 'digest');
    assert.equal(pick(['Digest realm="a", nonce="n", algorithm=MD5', 'Digest realm="a", nonce="n", algorithm=SHA-256']), 'digest SHA-256');
    assert.equal(pick(['Digest realm="a", nonce="n", algorithm=SHA-256, Digest realm="a", nonce="n", algorithm=MD5']), 'digest SHA-256');
    assert.equal(pick(['Digest realm="a", nonce="n", algorithm="SHA-512-256"', 'Digest realm="a", nonce="n", algorithm=SHA-256']), 'digest SHA-512-256');
    // a challenge we cannot answer (unknown algorithm, no nonce) is skipped, so a camera that
    // offers it beside Basic still gets an answer instead of a failed login
    assert.equal(pick(['Digest realm="a", nonce="n", algorithm=SHA-1024', 'Basic realm="a"']), 'basic');
    assert.equal(pick(['Digest realm="a"', 'Basic realm="a"']), 'basic');
    assert.equal(pick(['Digest realm="a", nonce="n", qop="auth-int"']), null);
    assert.equal(new Authenticator('u', 'p').onChallenge(['Negotiate abc', 'Bearer x=y']), 'unsupported');
    assert.equal(new Authenticator('u', 'p').onChallenge([]), 'unsupported');
  });

  test('SHA-256 with qop, MD5-sess, userhash', () => {
    const a = new Authenticator('Mufasa', 'Circle of Life', { cnonce: () => 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' });
    a.onChallenge(['Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"']);
    const v = a.authorization('GET', '/dir/index.html')!;
    assert.match(v, /response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"/);
    assert.match(v, /algorithm=SHA-256/);
    assert.ok(verifyAuthorization(v, { method: 'GET', username: 'Mufasa', password: 'Circle of Life', realm: 'http-auth@example.org' }));

    const s = new Authenticator('u', 'p', { cnonce: () => 'cn' });
    s.onChallenge(['Digest realm="r", nonce="n", qop=auth, algorithm=MD5-sess']);
    const sv = s.authorization('PLAY', 'rtsp://h/')!;
    assert.ok(verifyAuthorization(sv, { method: 'PLAY', username: 'u', password: 'p', realm: 'r' }));
    assert.ok(!verifyAuthorization(sv, { method: 'SETUP', username: 'u', password: 'p', realm: 'r' }));

    const uh = new Authenticator('u', 'p');
    uh.onChallenge(['Digest realm="r", nonce="n", userhash=true, algorithm=SHA-256']);
    const uv = parseAuthorization(uh.authorization('PLAY', 'rtsp://h/')!)!;
    assert.equal(uv.params['userhash'], 'true');
    assert.notEqual(uv.params['username'], 'u');
  });

  test('same nonce failing again → failed; fresh nonce → one more try; stale → retry without counting', () => {
    const a = new Authenticator('u', 'wrong');
    assert.equal(a.onChallenge(['Digest realm="r", nonce="n1"']), 'retry');
    a.authorization('DESCRIBE', 'rtsp://h/');
    assert.equal(a.onChallenge(['Digest realm="r", nonce="n1"']), 'failed');

    const b = new Authenticator('u', 'wrong');
    b.onChallenge(['Digest realm="r", nonce="n1"']);
    b.authorization('DESCRIBE', 'rtsp://h/');
    assert.equal(b.onChallenge(['Digest realm="r", nonce="n2"']), 'retry');
    b.authorization('DESCRIBE', 'rtsp://h/');
    assert.equal(b.onChallenge(['Digest realm="r", nonce="n3"']), 'failed');

    const c = new Authenticator('u', 'right');
    c.onChallenge(['Digest realm="r", nonce="n1"']);
    c.authorization('DESCRIBE', 'rtsp://h/');
    for (let i = 2; i <= 4; i++) {
      assert.equal(c.onChallenge([`Digest realm="r", nonce="n${i}", stale=TRUE`]), 'retry');
      c.authorization('DESCRIBE', 'rtsp://h/');
    }
    // a server that never stops declaring the nonce stale is bounded
    assert.equal(c.onChallenge(['Digest realm="r", nonce="n9", stale=true']), 'failed');

    // success resets: a later 401 (Axis re-challenge on keepalive) is retried
    const d = new Authenticator('u', 'right');
    d.onChallenge(['Digest realm="r", nonce="n1"']);
    d.authorization('DESCRIBE', 'rtsp://h/');
    d.onSuccess();
    d.authorization('GET_PARAMETER', 'rtsp://h/');
    assert.equal(d.onChallenge(['Digest realm="r", nonce="n2"']), 'retry');

    // Basic rejected once → failed
    const e = new Authenticator('u', 'wrong');
    e.onChallenge(['Basic realm="r"']);
    e.authorization('DESCRIBE', 'rtsp://h/');
    assert.equal(e.onChallenge(['Basic realm="r"']), 'failed');

    // a second 401 before credentials were even sent is still worth a retry
    const f = new Authenticator('u', 'p');
    assert.equal(f.onChallenge(['Digest realm="r", nonce="n1"']), 'retry');
    assert.equal(f.onChallenge(['Digest realm="r", nonce="n1"']), 'retry');
  });

  test('nc is 8 lower-case hex digits for as long as one nonce lives (RFC 7616 §3.4: 0000000a, not 00000010)', () => {
    const a = new Authenticator('u', 'p', fixedCnonce);
    assert.equal(a.onChallenge(['Digest realm="r", qop="auth", nonce="long-lived"']), 'retry');
    const seen: string[] = [];
    // a keep-alive every 30 s for a bit over 2 hours on a nonce the camera never rotates
    for (let i = 1; i <= 300; i++) {
      const v = a.authorization('GET_PARAMETER', 'rtsp://h/')!;
      const p = parseAuthorization(v)!.params;
      seen.push(p['nc']!);
      assert.equal(p['nc'], i.toString(16).padStart(8, '0'), `request ${i}`);
      // the response is computed over the nc that is sent, so a strict server accepts it
      assert.ok(verifyAuthorization(v, { method: 'GET_PARAMETER', username: 'u', password: 'p', realm: 'r', nonce: 'long-lived' }), `request ${i}`);
      a.onSuccess();
    }
    assert.deepEqual(seen.slice(8, 17), ['00000009', '0000000a', '0000000b', '0000000c', '0000000d', '0000000e', '0000000f', '00000010', '00000011']);
    assert.equal(seen[255], '00000100');
  });

  test('stale nonces hours apart never add up: each success resets the stale count', () => {
    // A camera rotating its nonce with stale=true every few minutes, each rotation followed by
    // successful keep-alives: far more rotations than the stale bound, all answered.
    const a = new Authenticator('u', 'right');
    a.onChallenge(['Digest realm="r", nonce="n0"']);
    a.authorization('DESCRIBE', 'rtsp://h/');
    a.onSuccess();
    for (let i = 1; i <= 20; i++) {
      a.authorization('GET_PARAMETER', 'rtsp://h/');
      assert.equal(a.onChallenge([`Digest realm="r", nonce="n${i}", stale=true`]), 'retry', `rotation ${i}`);
      assert.match(a.authorization('GET_PARAMETER', 'rtsp://h/')!, new RegExp(`nonce="n${i}"`));
      a.onSuccess();
    }
    // the bound still holds between two successes
    for (let i = 21; i <= 23; i++) {
      a.authorization('GET_PARAMETER', 'rtsp://h/');
      assert.equal(a.onChallenge([`Digest realm="r", nonce="n${i}", stale=true`]), 'retry');
    }
    a.authorization('GET_PARAMETER', 'rtsp://h/');
    assert.equal(a.onChallenge(['Digest realm="r", nonce="n24", stale=true']), 'failed');
  });

  test('quotes in username are escaped; digestChallenge builds a parseable challenge', () => {
    const a = new Authenticator('we"ird\\', 'p');
    a.onChallenge([digestChallenge('R', 'N', { qop: true, opaque: 'o', algorithm: 'SHA-256' })]);
    const v = a.authorization('OPTIONS', '*')!;
    const parsed = parseAuthorization(v)!;
    assert.equal(parsed.params['username'], 'we"ird\\');
    assert.equal(parsed.params['opaque'], 'o');
    assert.ok(verifyAuthorization(v, { method: 'OPTIONS', username: 'we"ird\\', password: 'p', realm: 'R', nonce: 'N' }));
    assert.ok(!verifyAuthorization(v, { method: 'OPTIONS', username: 'we"ird\\', password: 'p', realm: 'R', nonce: 'other' }));
    assert.ok(!verifyAuthorization(undefined, { method: 'OPTIONS', username: 'u', password: 'p', realm: 'R' }));
  });
});

describe('Authenticator: control characters in a challenge', () => {
  test('a Digest challenge with a CTL in nonce, realm, opaque or algorithm is not answered; nothing echoed', () => {
    for (const bad of [
      'Digest realm="a", nonce="n\u0000x"',
      'Digest realm="a\u0000", nonce="n"',
      'Digest realm="a", nonce="n\r\nInjected: 1"',
      'Digest realm="a", nonce="n", opaque="o\u0007"',
      'Digest realm="a", nonce="n", qop="auth", opaque="o\u007f"',
      'Digest realm="a", nonce="n", algorithm="MD5\u0000"',
    ]) {
      const a = new Authenticator('u', 'p');
      assert.equal(a.onChallenge([bad]), 'unsupported', JSON.stringify(bad));
      assert.equal(a.authorization('DESCRIBE', 'rtsp://h/'), null);
      // With a clean Basic alternative, Basic is used and no challenge text is echoed.
      const b = new Authenticator('u', 'p');
      assert.equal(b.onChallenge([bad, 'Basic realm="a"']), 'retry');
      assert.equal(b.scheme, 'basic');
    }
  });

  test('property: whatever the challenge, the Authorization value has no CTL', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), (realm, nonce, opaque) => {
      const esc = (v: string): string => v.replace(/[\\"]/g, (c) => `\\${c}`);
      const a = new Authenticator('u', 'p', { cnonce: () => 'c' });
      if (a.onChallenge([`Digest realm="${esc(realm)}", nonce="${esc(nonce)}", opaque="${esc(opaque)}", qop="auth"`]) !== 'retry') return;
      const v = a.authorization('DESCRIBE', 'rtsp://h/')!;
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u0000-\u0008\u000a-\u001f\u007f]/.test(v), JSON.stringify(v));
    }), { numRuns: 300 });
  });

  test('HTAB and non-ASCII text in a realm are still answered (qdtext allows them)', () => {
    const a = new Authenticator('u', 'p');
    assert.equal(a.onChallenge(['Digest realm="Cam\tRäume", nonce="n"']), 'retry');
    assert.match(a.authorization('DESCRIBE', 'rtsp://h/')!, /realm="Cam\tRäume"/);
  });
});
