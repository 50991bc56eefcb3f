import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  newSessionCookie, tunnelGetRequest, tunnelPostRequest, encodeTunnelBytes, hostHeader, requestTarget, isTunnelContentType,
} from '../../src/transport/tunnel/wire';
import { HttpHeadReader, DEFAULT_HTTP_HEAD_LIMITS, type HttpHeadResult } from '../../src/transport/http-head';
import { decodeBase64Stream } from '../support/fake-tunnel-server';
import { httpTunnelTarget, type TunnelTarget } from '../../src/transport/tunnel/target';
import { parseRtspUrl } from '../../src/rtsp/url';

const BASE = { path: '/cam', host: '127.0.0.1:8554', cookie: 'AbC123xyz', userAgent: 'ua' };

describe('tunnel wire format (QuickTime RTSP-over-HTTP requests)', () => {
  test('GET: the headers of the dispatch, HTTP/1.0, Host, no Authorization before a challenge', () => {
    assert.equal(tunnelGetRequest(BASE).toString('latin1'),
      'GET /cam HTTP/1.0\r\nHost: 127.0.0.1:8554\r\nUser-Agent: ua\r\nx-sessioncookie: AbC123xyz\r\n'
      + 'Accept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n');
  });

  test('POST: same cookie, tunnel content type, Content-Length 32767, Expires in the past, Authorization when given', () => {
    assert.equal(tunnelPostRequest({ ...BASE, authorization: 'Basic dTpw' }).toString('latin1'),
      'POST /cam HTTP/1.0\r\nHost: 127.0.0.1:8554\r\nUser-Agent: ua\r\nx-sessioncookie: AbC123xyz\r\n'
      + 'Content-Type: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n'
      + 'Content-Length: 32767\r\nExpires: Sun, 9 Jan 1972 00:00:00 GMT\r\nAuthorization: Basic dTpw\r\n\r\n');
  });

  test('values cannot inject lines; whitespace in the path is percent-encoded; a path without / gets one', () => {
    const text = tunnelGetRequest({ ...BASE, path: 'a b\tc?x=1', userAgent: 'x\r\nEvil: 1', authorization: 'Digest a\nb' }).toString('latin1');
    assert.ok(text.startsWith('GET /a%20b%09c?x=1 HTTP/1.0\r\n'), text);
    assert.ok(!/\r\nEvil:/.test(text), text);
    assert.equal(text.split('\r\n\r\n').length, 2);
    assert.equal(requestTarget(''), '/');
  });

  test('Host header: port always written, IPv6 literals in brackets', () => {
    assert.equal(hostHeader('cam.local', 80), 'cam.local:80');
    assert.equal(hostHeader('::1', 554), '[::1]:554');
    assert.equal(hostHeader('[fe80::1]', 554), '[fe80::1]:554');
  });

  test('session cookie: 22 letters/digits, fresh each time; a fixed byte source gives a fixed cookie', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const c = newSessionCookie();
      assert.match(c, /^[A-Za-z0-9]{22}$/);
      seen.add(c);
    }
    assert.equal(seen.size, 500);
    // bytes ≥ 248 are rejected (no modulo bias): the first batch gives nothing, the second only '9' (61)
    let calls = 0;
    const source = (n: number): Buffer => Buffer.alloc(n, calls++ === 0 ? 0xff : 61);
    assert.equal(newSessionCookie(source), '9'.repeat(22));
  });

  test('content type: both spellings, parameters and case ignored', () => {
    assert.ok(isTunnelContentType('application/x-rtsp-tunnelled'));
    assert.ok(isTunnelContentType('Application/X-RTSP-Tunneled; charset=x'));
    assert.ok(!isTunnelContentType('text/html'));
  });

  test('property: every write is whole base64 quads, and a streaming decoder gives back the messages in order', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 20 }), (messages) => {
      const writes = messages.map((m) => encodeTunnelBytes(m));
      for (const w of writes) {
        assert.equal(w.length % 4, 0);
        assert.match(w.toString('latin1'), /^[A-Za-z0-9+/]*={0,2}$/);
      }
      // decoded write by write (a per-read decoder) and as one stream: both give the bytes back
      writes.forEach((w, i) => assert.deepEqual(decodeBase64Stream(w.toString('latin1')), Buffer.from(messages[i]!)));
      assert.deepEqual(decodeBase64Stream(Buffer.concat(writes).toString('latin1')), Buffer.concat(messages.map((m) => Buffer.from(m))));
    }), { numRuns: 300 });
  });
});

const GST_REPLY = 'HTTP/1.0 200 OK\r\nServer: GStreamer RTSP Server\r\nConnection: close\r\nCache-Control: no-store\r\n'
  + 'Pragma: no-cache\r\nx-server-ip-address: 127.0.0.1\r\nContent-Type: application/x-rtsp-tunnelled\r\n\r\n';

function pushAll(reader: HttpHeadReader, chunks: Buffer[]): { result: HttpHeadResult; chunkIndex: number } {
  for (let i = 0; i < chunks.length; i++) {
    const r = reader.push(chunks[i]!);
    if (r.state !== 'more') return { result: r, chunkIndex: i };
  }
  return { result: { state: 'more' }, chunkIndex: chunks.length };
}

describe('HTTP response head reader', () => {
  test("GStreamer's tunnel reply followed by RTSP bytes in the same chunk: head parsed, body starts right after", () => {
    const body = 'RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n';
    const chunk = Buffer.from(GST_REPLY + body, 'latin1');
    const r = new HttpHeadReader().push(chunk);
    assert.equal(r.state, 'done');
    if (r.state !== 'done') return;
    assert.equal(r.head.version, 'HTTP/1.0');
    assert.equal(r.head.statusCode, 200);
    assert.equal(r.head.reason, 'OK');
    assert.deepEqual(r.head.headers.get('content-type'), ['application/x-rtsp-tunnelled']);
    assert.deepEqual(r.head.headers.get('x-server-ip-address'), ['127.0.0.1']);
    assert.equal(chunk.toString('latin1', r.rest), body);
  });

  test('bare LF line endings, an empty line before the status line, folded and repeated headers', () => {
    const text = '\r\nHTTP/1.1 401 Unauthorized\nWWW-Authenticate: Basic realm="a"\nWWW-Authenticate: Digest\n realm="b"\nno colon here\n\nX';
    const r = new HttpHeadReader().push(Buffer.from(text, 'latin1'));
    assert.equal(r.state, 'done');
    if (r.state !== 'done') return;
    assert.equal(r.head.statusCode, 401);
    assert.deepEqual(r.head.headers.get('www-authenticate'), ['Basic realm="a"', 'Digest realm="b"']);
    assert.equal(r.rest, text.length - 1); // the body 'X' follows
  });

  test('not HTTP: an RTSP server answering the GET, an SSH banner, binary: error with a printable preview', () => {
    for (const text of ['RTSP/1.0 400 Bad Request\r\n\r\n', 'SSH-2.0-OpenSSH_9.2\r\n', '\x00\x01\x02\xff\n']) {
      const r = new HttpHeadReader().push(Buffer.from(text, 'latin1'));
      assert.equal(r.state, 'error', text);
      if (r.state === 'error') assert.match(r.message, /^not an HTTP response: "[\x20-\x7e]*"$/);
    }
  });

  test('limits: line length, header count and head size each end in an error, however the bytes are chunked', () => {
    const limits = { line: 64, count: 4, block: 256 };
    const cases: [string, RegExp][] = [
      [`HTTP/1.0 200 OK\r\nX: ${'a'.repeat(62)}\r\n\r\n`, /line longer than 64/],
      [`HTTP/1.0 200 OK\r\n${'A: 1\r\n'.repeat(5)}\r\n`, /more than 4 header fields/],
      [`HTTP/1.0 200 OK\r\n${`Xy: ${'b'.repeat(56)}\r\n`.repeat(4)}\r\n`, /head longer than 256/],
      [`HTTP/1.0 200 OK\r\n${'x'.repeat(300)}`, /line longer than 64/],
    ];
    for (const [text, want] of cases) {
      for (const size of [1, 7, 1000]) {
        const bytes = Buffer.from(text, 'latin1');
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
        const { result } = pushAll(new HttpHeadReader(limits), chunks);
        assert.equal(result.state, 'error', `${JSON.stringify(text.slice(0, 30))} in chunks of ${size}`);
        if (result.state === 'error') assert.match(result.message, want);
      }
    }
    // exactly at the limits: fine
    const ok = new HttpHeadReader(limits).push(Buffer.from(`HTTP/1.0 200 OK\r\nX: ${'a'.repeat(61)}\r\n\r\n`, 'latin1'));
    assert.equal(ok.state, 'done');
  });

  test('after the head every later chunk is body (rest 0); after an error it stays an error', () => {
    const r = new HttpHeadReader();
    assert.equal(r.push(Buffer.from(GST_REPLY, 'latin1')).state, 'done');
    const again = r.push(Buffer.from('RTSP/1.0 200 OK\r\n', 'latin1'));
    assert.ok(again.state === 'done' && again.rest === 0);
    const e = new HttpHeadReader();
    assert.equal(e.push(Buffer.from('nope\r\n')).state, 'error');
    assert.equal(e.push(Buffer.from(GST_REPLY)).state, 'error');
  });

  test('property: any chunking of a head + body gives the same head and the same body bytes', () => {
    const full = Buffer.from(`${GST_REPLY}RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n$\x00\x00\x04abcd`, 'latin1');
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 60 }), (sizes) => {
      const reader = new HttpHeadReader();
      let off = 0;
      let body: Buffer[] = [];
      let head: unknown = null;
      for (let k = 0; off < full.length; k++) {
        const n = sizes[k % sizes.length]!;
        const chunk = full.subarray(off, off + n);
        off += chunk.length;
        if (head !== null) { body.push(chunk); continue; }
        const r = reader.push(chunk);
        assert.notEqual(r.state, 'error');
        if (r.state === 'done') { head = r.head; body = [chunk.subarray(r.rest)]; }
      }
      assert.ok(head !== null);
      assert.equal(Buffer.concat(body).toString('latin1'), full.toString('latin1', GST_REPLY.length));
    }), { numRuns: 300 });
    assert.ok(DEFAULT_HTTP_HEAD_LIMITS.block >= GST_REPLY.length);
  });
});

describe('tunnel target of an rtsp:// URL', () => {
  const target = (url: string): TunnelTarget => {
    const u = parseRtspUrl(url);
    assert.ok(u, url);
    return httpTunnelTarget(u);
  };
  test('no port in the URL: HTTP port 80 (443 for rtsps), not 554/322', () => {
    assert.deepEqual(target('rtsp://cam.local/axis-media/media.amp?resolution=640x480'), { host: 'cam.local', port: 80, secure: false, path: '/axis-media/media.amp?resolution=640x480' });
    assert.deepEqual(target('rtsps://cam.local/live'), { host: 'cam.local', port: 443, secure: true, path: '/live' });
    assert.equal(target('rtsp://[fe80::1]/live').port, 80);
    assert.equal(target('rtsp://user:pa:ss@10.0.0.2/x').port, 80);
  });
  test('a port in the URL is kept, also 554 and for IPv6 literals', () => {
    assert.equal(target('rtsp://127.0.0.1:8554/cam').port, 8554);
    assert.equal(target('rtsp://cam:554/x').port, 554);
    assert.equal(target('rtsp://[::1]:8080/x').port, 8080);
    assert.equal(target('rtsp://u:p@cam:8081/x').port, 8081);
  });
});
