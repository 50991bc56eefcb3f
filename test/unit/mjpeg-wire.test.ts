/**
 * The small HTTP-MJPEG wire modules: chunked transfer coding (RFC 9112 §7.1), media types and
 * sniffing (RFC 9110 §8.3), http(s) URLs and the redirect rule, JPEG bounds and size.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedDecoder } from '../../src/mjpeg/chunked-decoder';
import { boundaryToken, kindFromContentType, parseMediaType, sniffBody } from '../../src/mjpeg/media-type';
import { parseHttpUrl, redirectTarget } from '../../src/mjpeg/http-url';
import { jpegBounds, jpegSize } from '../../src/mjpeg/jpeg-frame';
import { chunked, fixtureJpegs } from '../support/mjpeg-wire';

function dechunk(reads: Buffer[]): { data: Buffer; result: string; rest: number } {
  const parts: Buffer[] = [];
  const d = new ChunkedDecoder((b) => parts.push(Buffer.from(b)));
  let result = 'more';
  let rest = -1;
  for (const r of reads) {
    const x = d.push(r);
    result = x.state;
    if (x.state === 'done') { rest = x.rest; break; }
    if (x.state === 'error') break;
  }
  return { data: Buffer.concat(parts), result, rest };
}

describe('chunked transfer coding', () => {
  const wire = Buffer.from('5\r\nhello\r\n1A;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT', 'latin1');
  test('sizes, extensions, trailers; data and the rest of the read, in any chunking', () => {
    for (const sizes of [[wire.length], [1], [3], [7, 2]]) {
      const reads = chunked(wire, sizes);
      const r = dechunk(reads);
      assert.equal(r.data.toString(), 'helloabcdefghijklmnopqrstuvwxyz', `sizes ${sizes}`);
      assert.equal(r.result, 'done');
    }
    assert.equal(dechunk([wire]).rest, wire.length - 4);
  });
  test('ESP-IDF style (lower-case hex) with bare LF accepted', () => {
    assert.equal(dechunk([Buffer.from('a\nabcdefghij\n0\n\n')]).data.toString(), 'abcdefghij');
  });
  test('malformed sizes end in an error, never a throw', () => {
    for (const bad of ['zz\r\n', '5\r\nhelloX', '12345678901234\r\n', '5\rX']) {
      assert.equal(dechunk([Buffer.from(bad)]).result, 'error', bad);
    }
  });
});

describe('media types', () => {
  test('parameters: quoted, unquoted, case, escapes', () => {
    assert.deepEqual(parseMediaType('Multipart/X-Mixed-Replace; Boundary="a\\"b"; x=1'), { essence: 'multipart/x-mixed-replace', params: { boundary: 'a"b', x: '1' } });
    assert.equal(parseMediaType('nonsense'), null);
    assert.equal(boundaryToken('--myboundary'), 'myboundary');
    assert.equal(boundaryToken('----'), null);
  });
  test('kinds', () => {
    assert.deepEqual(kindFromContentType('multipart/x-mixed-replace;boundary=123456789000000000000987654321'), { kind: 'stream', boundary: '123456789000000000000987654321' });
    assert.deepEqual(kindFromContentType('multipart/x-mixed-replace'), { kind: 'stream', boundary: null });
    assert.deepEqual(kindFromContentType('image/jpeg'), { kind: 'snapshot' });
    assert.deepEqual(kindFromContentType('application/octet-stream'), { kind: 'sniff' });
    assert.deepEqual(kindFromContentType(undefined), { kind: 'sniff' });
    assert.equal(kindFromContentType('text/html; charset=utf-8').kind, 'rejected');
    assert.match((kindFromContentType('video/H264') as { what: string }).what, /H\.264/);
    assert.match((kindFromContentType('image/png') as { what: string }).what, /PNG/);
  });
  test('sniffing the body', () => {
    assert.deepEqual(sniffBody(Buffer.from('\r\n--7b3cc56e5f51db803f790dad720ed50a\r\nContent-Type: image/jpeg\r\n'), false), { kind: 'stream', boundary: '7b3cc56e5f51db803f790dad720ed50a' });
    assert.deepEqual(sniffBody(Buffer.from('--ffm'), false), { kind: 'more' });
    assert.deepEqual(sniffBody(fixtureJpegs()[0]!, false), { kind: 'snapshot' });
    assert.equal(sniffBody(Buffer.from('<!DOCTYPE html><html>'), false).kind, 'rejected');
    assert.match((sniffBody(Buffer.from([0, 0, 0, 1, 0x67, 0x42]), false) as { what: string }).what, /H\.264/);
    assert.equal(sniffBody(Buffer.from('hello'), true).kind, 'rejected');
  });
});

describe('http URLs', () => {
  test('default ports, Host header, credentials and IPv6', () => {
    const a = parseHttpUrl('http://user:p@ss/w@cam.local:81/stream')!;
    assert.equal(a.port, 81);
    assert.equal(a.password, 'p@ss/w');
    assert.equal(a.clean, 'http://cam.local:81/stream');
    assert.equal(a.hostHeader, 'cam.local:81');
    const b = parseHttpUrl('HTTPS://[fe80::1]/axis-cgi/mjpg/video.cgi?fps=5')!;
    assert.deepEqual([b.secure, b.port, b.path, b.hostHeader, b.clean], [true, 443, '/axis-cgi/mjpg/video.cgi?fps=5', '[fe80::1]', 'https://[fe80::1]/axis-cgi/mjpg/video.cgi?fps=5']);
    assert.equal(parseHttpUrl('http://cam:80/x')!.hostHeader, 'cam');
    assert.equal(parseHttpUrl('rtsp://cam/x'), null);
    assert.equal(parseHttpUrl('http://cam/x\r\nHost: evil'), null);
  });
  test('redirects: same host only, never https → http, at most 3', () => {
    const cur = parseHttpUrl('https://cam/a/b')!;
    assert.equal((redirectTarget(cur, 'c?x=1', 0) as { url: { clean: string } }).url.clean, 'https://cam/a/c?x=1');
    assert.equal((redirectTarget(cur, 'https://u:p@CAM:8443/z', 0) as { url: { clean: string; password: null } }).url.password, null);
    assert.match((redirectTarget(cur, 'https://other/z', 0) as { refused: string }).refused, /another host/);
    assert.match((redirectTarget(cur, 'http://cam/z', 0) as { refused: string }).refused, /https to http/);
    assert.match((redirectTarget(cur, '/z', 3) as { refused: string }).refused, /more than 3/);
    assert.ok('url' in redirectTarget(parseHttpUrl('http://cam/a')!, 'https://cam/b', 2));
  });
});

describe('JPEG bounds and size', () => {
  test('bounds skip padding, refuse partial pictures; size from SOFn', () => {
    const j = fixtureJpegs()[0]!;
    const padded = Buffer.concat([Buffer.from('\r\n'), j, Buffer.from('\r\n')]);
    assert.deepEqual(jpegBounds(padded), { start: 2, end: 2 + j.length });
    assert.equal(jpegBounds(j.subarray(0, j.length - 1)), null);
    assert.deepEqual(jpegSize(j), { width: 320, height: 240 });
    assert.deepEqual(jpegSize(fixtureJpegs()[5]!), { width: 320, height: 240 }); // progressive: SOF2
    assert.equal(jpegSize(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2])), null);
  });
});
