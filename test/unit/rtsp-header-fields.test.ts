/**
 * Header-field lines (rtsp/header-fields.ts), and the property that made them one module: the
 * RTSP message reader and the HTTP response head reader store the same headers for the same
 * header block, however it is chunked.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addHeaderLine, header, parseHeaderLine, type Headers } from '../../src/rtsp/header-fields';
import { RtspReader } from '../../src/rtsp/message';
import { HttpHeadReader } from '../../src/transport/http-head';

function read(lines: string[]): Headers {
  const h: Headers = new Map();
  let last: string | null = null;
  for (const l of lines) {
    const p = parseHeaderLine(l);
    if (p !== null) last = addHeaderLine(h, p, last);
  }
  return h;
}

describe('header-field lines', () => {
  test('fields: name lower-cased and trimmed, value trimmed, the first colon splits', () => {
    assert.deepEqual(parseHeaderLine('Content-Type: application/sdp'), { name: 'content-type', value: 'application/sdp' });
    assert.deepEqual(parseHeaderLine('X-Odd \t:  a:b:c  '), { name: 'x-odd', value: 'a:b:c' });
    assert.deepEqual(parseHeaderLine('Empty:'), { name: 'empty', value: '' });
  });

  test('continuations start with a space or tab; lines without a name are skipped', () => {
    assert.deepEqual(parseHeaderLine('  more text '), { name: null, value: 'more text' });
    assert.deepEqual(parseHeaderLine('\tmore'), { name: null, value: 'more' });
    for (const l of ['no colon', ': no name', '\x0c: form feed only', '']) assert.equal(parseHeaderLine(l), null, JSON.stringify(l));
  });

  test('repeated names keep every value in order; a continuation joins the last value with one space', () => {
    const h = read(['WWW-Authenticate: Basic realm="a"', 'www-authenticate: Digest', '  realm="b"', 'X: ', ' y', 'Z: z', ' ']);
    assert.deepEqual(h.get('www-authenticate'), ['Basic realm="a"', 'Digest realm="b"']);
    assert.equal(header(h, 'X'), 'y');
    assert.equal(header(h, 'z'), 'z');
    assert.equal(header(h, 'missing'), undefined);
  });

  test('a continuation before any field is dropped', () => {
    assert.deepEqual([...read([' orphan', 'A: 1'])], [['a', ['1']]]);
  });
});

describe('the RTSP and HTTP readers agree on header fields', () => {
  const lineChar = fc.constantFrom('a', 'B', ':', ' ', '\t', '-', '=', '"', '\x0c', '\xa0', '\xe9', '1');
  const line = fc.oneof(
    fc.tuple(fc.constantFrom('CSeq', 'X-A', 'x-a', 'Content-Type', 'Y'), fc.string({ unit: lineChar, maxLength: 12 })).map(([n, v]) => `${n}:${v}`),
    fc.string({ unit: lineChar, maxLength: 16 }).filter((l) => l.length > 0),
  );

  test('fast-check: the same header block gives the same Map in both readers', () => {
    fc.assert(fc.property(fc.array(line, { maxLength: 12 }), fc.integer({ min: 1, max: 7 }), (lines, chunk) => {
      // CSeq and Content-Length mean something to the RTSP reader; keep the body empty.
      const block = lines.filter((l) => !/^content-length\s*:/i.test(l)).join('\r\n');
      let rtsp: Headers | null = null;
      const r = new RtspReader({
        onResponse: (res) => { rtsp = res.headers; },
        onRequest: () => undefined,
        onInterleaved: () => undefined,
        onError: (e) => { throw e; },
      });
      const h = new HttpHeadReader();
      let http: Headers | null = null;
      const rtspBytes = Buffer.from(`RTSP/1.0 200 OK\r\n${block}${block ? '\r\n' : ''}\r\n`, 'latin1');
      const httpBytes = Buffer.from(`HTTP/1.0 200 OK\r\n${block}${block ? '\r\n' : ''}\r\n`, 'latin1');
      for (let i = 0; i < rtspBytes.length; i += chunk) r.push(rtspBytes.subarray(i, i + chunk));
      for (let i = 0; i < httpBytes.length && http === null; i += chunk) {
        const res = h.push(httpBytes.subarray(i, i + chunk));
        if (res.state === 'done') http = res.head.headers;
        if (res.state === 'error') throw new Error(res.message);
      }
      assert.ok(rtsp !== null && http !== null);
      assert.deepEqual([...(rtsp as Headers)], [...(http as Headers)]);
      assert.deepEqual([...(http as Headers)], [...read(lines.filter((l) => !/^content-length\s*:/i.test(l)))]);
    }), { numRuns: 2000, seed: 20260 });
  });
});
