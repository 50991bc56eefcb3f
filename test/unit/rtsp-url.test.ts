import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRtspUrl, resolveControl, keepConnectionHost, chooseBaseUrl, lenientDecode } from '../../src/rtsp/url';
import { redactText, redactUrl } from '../../src/rtsp/redact';

describe('parseRtspUrl', () => {
  test('plain, default ports, rtsps, query strings', () => {
    assert.deepEqual(parseRtspUrl('rtsp://cam.local/stream1'), {
      secure: false, host: 'cam.local', port: 554, path: '/stream1', username: null, password: null, clean: 'rtsp://cam.local/stream1',
    });
    assert.deepEqual(parseRtspUrl('RTSPS://10.0.0.2'), {
      secure: true, host: '10.0.0.2', port: 322, path: '/', username: null, password: null, clean: 'rtsps://10.0.0.2/',
    });
    const q = parseRtspUrl('rtsp://192.168.1.5:8554/cam/realmonitor?channel=1&subtype=0')!;
    assert.equal(q.port, 8554);
    assert.equal(q.path, '/cam/realmonitor?channel=1&subtype=0');
    assert.equal(q.clean, 'rtsp://192.168.1.5:8554/cam/realmonitor?channel=1&subtype=0');
    assert.equal(parseRtspUrl('rtsp://h?x=1')!.path, '/?x=1');
    assert.equal(parseRtspUrl('rtsp://h:/a')!.port, 554);
    assert.equal(parseRtspUrl('rtsp://h/a#frag')!.path, '/a');
    assert.equal(parseRtspUrl('  rtsp://h/a b  ')!.path, '/a%20b');
  });

  test('credentials with @ : / % # percent-encoded, and raw @ (last @ before the path)', () => {
    const u = parseRtspUrl('rtsp://ad%40min:p%40ss%3Aw%2Ford%25%23x@cam:554/live')!;
    assert.equal(u.username, 'ad@min');
    assert.equal(u.password, 'p@ss:w/ord%#x');
    assert.equal(u.clean, 'rtsp://cam:554/live');
    const raw = parseRtspUrl('rtsp://admin:p@ss@word@10.1.1.1/h264')!;
    assert.equal(raw.username, 'admin');
    assert.equal(raw.password, 'p@ss@word');
    assert.equal(raw.host, '10.1.1.1');
    const hash = parseRtspUrl('rtsp://admin:pa#ss@cam/x')!;
    assert.equal(hash.password, 'pa#ss');
    assert.equal(hash.host, 'cam');
    // a raw '/' in the password: the userinfo still ends at the last '@' before host[:port]
    const slash = parseRtspUrl('rtsp://admin:pa/ss@10.0.0.5:554/stream1')!;
    assert.ok(slash, 'a raw / in the password is accepted (the node layer always split it)');
    assert.deepEqual([slash.username, slash.password, slash.host, slash.port, slash.path], ['admin', 'pa/ss', '10.0.0.5', 554, '/stream1']);
    // malformed escapes kept literally: users type passwords with a bare '%'
    assert.equal(parseRtspUrl('rtsp://u:100%pure@cam/x')!.password, '100%pure');
    assert.equal(parseRtspUrl('rtsp://u:a%2@cam/x')!.password, 'a%2');
    assert.equal(lenientDecode('%41%zz%42'), 'A%zzB');
    const userOnly = parseRtspUrl('rtsp://viewer@cam/x')!;
    assert.equal(userOnly.username, 'viewer');
    assert.equal(userOnly.password, null);
    assert.equal(parseRtspUrl('rtsp://:secret@cam/x')!.username, '');
  });

  test('IPv6', () => {
    const u = parseRtspUrl('rtsp://user:pw@[::1]:8554/x')!;
    assert.equal(u.host, '::1');
    assert.equal(u.port, 8554);
    assert.equal(u.clean, 'rtsp://[::1]:8554/x');
    assert.equal(parseRtspUrl('rtsp://[fe80::1%25eth0]/x')!.host, 'fe80::1%25eth0');
    assert.equal(parseRtspUrl('rtsp://[2001:db8::2]')!.port, 554);
    assert.equal(parseRtspUrl('rtsp://[::1/x'), null);
    assert.equal(parseRtspUrl('rtsp://[zz]/x'), null);
    assert.equal(parseRtspUrl('rtsp://::1/x'), null);
  });

  test('garbage → null', () => {
    for (const bad of ['', 'http://h/x', 'rtsp:/h/x', 'rtsp://', 'rtsp:///x', 'rtsp://h:0/x', 'rtsp://h:65536/x', 'rtsp://h:12a/x',
      'rtsp://h x/y', 'rtsp://h/x\r\nEvil: 1', 'rtsp://h/\u0000', 'rtsp://user@/x', 'rtsp://h:-1/', 'rtsp://[::1]x/']) {
      assert.equal(parseRtspUrl(bad), null, JSON.stringify(bad));
    }
    assert.equal(parseRtspUrl(undefined as unknown as string), null);
  });

  test('never throws on random input', () => {
    fc.assert(fc.property(fc.string({ maxLength: 120 }), (s) => { parseRtspUrl(s); parseRtspUrl(`rtsp://${s}`); }), { numRuns: 1000 });
    fc.assert(fc.property(fc.array(fc.constantFrom('rtsp://', '@', ':', '/', '%', '%4', '#', '?', '[', ']', 'h', '1', '::'), { maxLength: 20 }), (p) => {
      const u = parseRtspUrl(p.join(''));
      if (u) {
        assert.ok(u.port >= 1 && u.port <= 65535);
        assert.ok(u.path.startsWith('/'));
        assert.ok(!u.clean.includes('@') || u.path.includes('@'));
      }
    }), { numRuns: 1000 });
  });
});

describe('control URLs (RFC 2326 §C.1.1)', () => {
  test('Content-Base with and without trailing slash', () => {
    assert.equal(resolveControl('stream=0', 'rtsp://127.0.0.1:18580/cam/'), 'rtsp://127.0.0.1:18580/cam/stream=0');
    assert.equal(resolveControl('stream=0', 'rtsp://h/cam'), 'rtsp://h/cam/stream=0');
    assert.equal(resolveControl('trackID=1', 'rtsp://h/stream'), 'rtsp://h/stream/trackID=1');
  });
  test("'*', empty, missing → base; absolute as is; leading '/' → on the base host", () => {
    assert.equal(resolveControl('*', 'rtsp://h/cam/'), 'rtsp://h/cam/');
    assert.equal(resolveControl('', 'rtsp://h/cam'), 'rtsp://h/cam');
    assert.equal(resolveControl(undefined, 'rtsp://h/cam'), 'rtsp://h/cam');
    assert.equal(resolveControl(' * ', 'rtsp://h/cam'), 'rtsp://h/cam');
    assert.equal(resolveControl('rtsp://127.0.0.1:18581/vlc/trackID=0', 'rtsp://127.0.0.1:18581/vlc'), 'rtsp://127.0.0.1:18581/vlc/trackID=0');
    assert.equal(resolveControl('RTSPS://other/x', 'rtsp://h/cam'), 'RTSPS://other/x');
    assert.equal(resolveControl('/media/track1', 'rtsp://h:8554/cam/'), 'rtsp://h:8554/media/track1');
  });
  test('query strings preserved (append, as FFmpeg/Dahua; or before the query, as GStreamer)', () => {
    assert.equal(resolveControl('trackID=0', 'rtsp://h/cam/realmonitor?channel=1&subtype=0/'), 'rtsp://h/cam/realmonitor?channel=1&subtype=0/trackID=0');
    assert.equal(resolveControl('trackID=0', 'rtsp://h/cam/realmonitor?channel=1&subtype=0'), 'rtsp://h/cam/realmonitor?channel=1&subtype=0/trackID=0');
    assert.equal(resolveControl('trackID=0', 'rtsp://h/live?token=abc', { query: 'path' }), 'rtsp://h/live/trackID=0?token=abc');
    assert.equal(resolveControl('track?x=1', 'rtsp://h/live/'), 'rtsp://h/live/track?x=1');
  });
  test('absolute control naming a private host → connection host kept', () => {
    assert.equal(keepConnectionHost('rtsp://192.168.0.20:554/axis-media/media.amp/trackID=1', 'rtsp://cam.example.com:10554/axis-media/media.amp'),
      'rtsp://cam.example.com:10554/axis-media/media.amp/trackID=1');
    assert.equal(keepConnectionHost('rtsp://10.0.0.5/a?b=1', 'rtsp://1.2.3.4/a'), 'rtsp://1.2.3.4/a?b=1');
    assert.equal(keepConnectionHost('rtsp://user:pw@cam/x', 'rtsp://cam/y'), 'rtsp://cam/x');
    const same = 'rtsp://cam:554/x/trackID=1';
    assert.equal(keepConnectionHost(same, 'rtsp://cam/x'), same);
    assert.equal(keepConnectionHost('trackID=1', 'rtsp://cam/x'), 'trackID=1');
  });
  test('base URL choice: Content-Base > Content-Location > request URL; repairs', () => {
    assert.equal(chooseBaseUrl({ contentBase: 'rtsp://h/cam/', contentLocation: 'rtsp://h/loc/', requestUrl: 'rtsp://h/cam' }), 'rtsp://h/cam/');
    assert.equal(chooseBaseUrl({ contentLocation: 'rtsp://h/loc/', requestUrl: 'rtsp://h/cam' }), 'rtsp://h/loc/');
    assert.equal(chooseBaseUrl({ requestUrl: 'rtsp://h/cam' }), 'rtsp://h/cam');
    assert.equal(chooseBaseUrl({ contentBase: '/relative-content-base', requestUrl: 'rtsp://h:8554/cam' }), 'rtsp://h:8554/relative-content-base');
    assert.equal(chooseBaseUrl({ contentBase: '192.168.1.5/live/', requestUrl: 'rtsp://192.168.1.5/live' }), 'rtsp://192.168.1.5/live/');
    assert.equal(chooseBaseUrl({ contentBase: 'http://x/y', requestUrl: 'rtsp://h/cam' }), 'rtsp://h/cam');
  });
});

describe('redaction', () => {
  test('redactUrl', () => {
    assert.equal(redactUrl('rtsp://admin:s3cret@cam/x'), 'rtsp://***@cam/x');
    assert.equal(redactUrl('rtsp://admin:p@ss@cam/x'), 'rtsp://***@cam/x');
    assert.equal(redactUrl('rtsp://cam/x@y'), 'rtsp://cam/x@y');
  });
  test('redactText removes raw, percent-encoded, base64 and userinfo forms', () => {
    const user = 'admin';
    const pass = 'p@ss:w/rd#1!';
    const basic = Buffer.from(`${user}:${pass}`).toString('base64');
    const text = [
      `connect rtsp://${user}:${encodeURIComponent(pass)}@cam/x failed`,
      `password ${pass} was rejected`,
      `encoded ${encodeURIComponent(pass)} and ${encodeURIComponent(pass).toLowerCase()} and ${encodeURIComponent(pass).replace('!', '%21')}`,
      `header Authorization: Basic ${basic}`,
      `token ${basic} seen`,
      `url rtsp://u:raw@pass@cam/y`,
    ].join('\n');
    const out = redactText(text, [user, pass, null, undefined, '']);
    assert.ok(!out.includes(pass), out);
    assert.ok(!out.includes(encodeURIComponent(pass)), out);
    assert.ok(!out.toLowerCase().includes(encodeURIComponent(pass).toLowerCase()), out);
    assert.ok(!out.includes('%21'), out);
    assert.ok(!out.includes(basic), out);
    assert.ok(!out.includes('admin'), out);
    assert.ok(!out.includes('raw@pass'), out);
    assert.match(out, /rtsp:\/\/\*\*\*@cam\/x failed/);
    assert.match(out, /Authorization: \*\*\*/);
    assert.equal(redactText('nothing secret here', ['pw']), 'nothing secret here');
    assert.equal(redactText('', ['x']), '');
    // a session id given as a secret
    assert.equal(redactText('Session: 8jjrw7z2_SuA-kb4', ['8jjrw7z2_SuA-kb4']), 'Session: ***');
  });

  test('redactText: exact output, userinfo masked up to the last @ before the host', () => {
    // no secrets known (a URL from a redirect, another camera's password): the mask alone
    assert.equal(redactText('connect rtsp://admin:p@ss@host/x failed', []), 'connect rtsp://***@host/x failed');
    assert.equal(redactText('rtsp://u:a@b@c@h:554/y?z=1@2 and rtsps://p@@[::1]/s', []), 'rtsp://***@h:554/y?z=1@2 and rtsps://***@[::1]/s');
    assert.equal(redactText('Location: rtsp://admin:p@ss@10.0.0.9/live\r\nAuthorization: Basic abc', []),
      'Location: rtsp://***@10.0.0.9/live\r\nAuthorization: ***');
    // the password of the secrets suite, in each form that suite scans for
    const user = 'admin';
    const secret = 'S3cr3t:p@ss/word%';
    const forms = {
      raw: secret,
      encodeURIComponent: encodeURIComponent(secret),
      encodeURI: encodeURI(secret),
      'base64 user:pass': Buffer.from(`${user}:${secret}`).toString('base64'),
    };
    for (const [name, f] of Object.entries(forms)) {
      const text = `connect rtsp://${user}:${f}@10.0.0.9:554/live failed; password ${f}; Authorization: Basic ${f}`;
      assert.equal(redactText(text, [user, secret]), 'connect rtsp://***@10.0.0.9:554/live failed; password ***; Authorization: ***', name);
    }
    // URL-safe forms are masked in a URL even when the secret is not known
    for (const f of [forms.encodeURIComponent, forms['base64 user:pass']]) {
      assert.equal(redactText(`rtsp://${user}:${f}@10.0.0.9:554/live`, []), 'rtsp://***@10.0.0.9:554/live');
    }
  });
});
