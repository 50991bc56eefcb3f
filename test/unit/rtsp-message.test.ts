import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  RtspReader, header,
  type RtspResponse, type RtspRequest, type RtspReaderLimits,
} from '../../src/rtsp/message';
import { serializeRequest, serializeResponse, interleavedFrame } from '../../src/rtsp/serialize';
import { RtspProtocolError } from '../../src/errors';
import { readPcap, rtspText, tcpStreams, vectorPackets } from '../support/pcap';

const VECTORS = join(__dirname, '..', 'fixtures', 'vectors');

type Event =
  | { t: 'res'; status: number; reason: string; cseq: number | null; headers: [string, string[]][]; body: string }
  | { t: 'req'; method: string; uri: string; cseq: number | null; headers: [string, string[]][]; body: string }
  | { t: 'frame'; channel: number; payload: string }
  | { t: 'error'; message: string };

function collect(limits?: Partial<RtspReaderLimits>): { reader: RtspReader; events: Event[]; frames: { channel: number; payload: Buffer }[] } {
  const events: Event[] = [];
  const frames: { channel: number; payload: Buffer }[] = [];
  const reader = new RtspReader({
    onResponse(r: RtspResponse) {
      events.push({ t: 'res', status: r.statusCode, reason: r.reason, cseq: r.cseq, headers: [...r.headers], body: r.body.toString('latin1') });
    },
    onRequest(r: RtspRequest) {
      events.push({ t: 'req', method: r.method, uri: r.uri, cseq: r.cseq, headers: [...r.headers], body: r.body.toString('latin1') });
    },
    onInterleaved(channel, data, start, end) {
      // copy: the payload may be in the chunk itself
      const payload = data.subarray(start, end);
      frames.push({ channel, payload: Buffer.from(payload) });
      events.push({ t: 'frame', channel, payload: payload.toString('hex') });
    },
    onError(err) {
      assert.ok(err instanceof RtspProtocolError);
      events.push({ t: 'error', message: err.message });
    },
  }, limits);
  return { reader, events, frames };
}

function feed(data: Buffer, sizes: number[] | 'whole' | 'bytes', limits?: Partial<RtspReaderLimits>): ReturnType<typeof collect> {
  const c = collect(limits);
  if (sizes === 'whole') c.reader.push(data);
  else if (sizes === 'bytes') for (let i = 0; i < data.length; i++) c.reader.push(data.subarray(i, i + 1));
  else {
    let i = 0;
    let k = 0;
    while (i < data.length) {
      const n = Math.max(1, sizes[k++ % sizes.length]!);
      c.reader.push(data.subarray(i, i + n));
      i += n;
    }
  }
  return c;
}

/** Deterministic pseudo-random chunk sizes. */
function randomSizes(seed: number, count: number, max: number): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out.push(1 + (x % max));
  }
  return out;
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:stream=0\r\n';
const MIXED = Buffer.concat([
  Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n'),
  Buffer.from(`RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`),
  interleavedFrame(0, Buffer.from('rtp-one')),
  interleavedFrame(1, Buffer.from('rtcp')),
  Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n\r\n'),
  interleavedFrame(0, Buffer.alloc(0)),
  interleavedFrame(0, Buffer.alloc(3000, 0xab)),
  Buffer.from('RTSP/1.0 454 Session Not Found\r\nCSeq: 3\r\n\r\n'),
]);

describe('RtspReader framing', () => {
  test('a mixed stream gives the same events however it is chunked', () => {
    const whole = feed(MIXED, 'whole').events;
    assert.deepEqual(whole.map((e) => e.t), ['res', 'res', 'frame', 'frame', 'req', 'frame', 'frame', 'res']);
    const sdpRes = whole[1] as Extract<Event, { t: 'res' }>;
    assert.equal(sdpRes.body, SDP);
    assert.equal(sdpRes.cseq, 2);
    const req = whole[4] as Extract<Event, { t: 'req' }>;
    assert.equal(req.method, 'OPTIONS');
    assert.equal(req.uri, '*');
    assert.equal(req.cseq, 7);
    assert.deepEqual(feed(MIXED, 'bytes').events, whole);
    for (let seed = 1; seed <= 30; seed++) assert.deepEqual(feed(MIXED, randomSizes(seed, 200, 64)).events, whole);
    // every split point of two chunks
    for (let cut = 0; cut <= MIXED.length; cut++) {
      const c = collect();
      c.reader.push(MIXED.subarray(0, cut));
      c.reader.push(MIXED.subarray(cut));
      assert.deepEqual(c.events, whole, `split at ${cut}`);
    }
  });

  test('whole frames inside a chunk are handed out without copying', () => {
    const chunk = Buffer.concat([interleavedFrame(0, Buffer.from('abcdef')), interleavedFrame(1, Buffer.from('xy'))]);
    const got: [Buffer, number, number][] = [];
    const reader = new RtspReader({ onResponse() {}, onRequest() {}, onInterleaved(_c, d, s, e) { got.push([d, s, e]); }, onError() { assert.fail('no error'); } });
    reader.push(chunk);
    assert.equal(got.length, 2);
    assert.ok(got.every(([d]) => d === chunk), 'payloads are bounds in the chunk itself: no copy, no subarray');
    assert.deepEqual(got.map(([, s, e]) => [s, e]), [[4, 10], [14, 16]]);
    assert.equal(chunk.toString('latin1', 14, 16), 'xy');
  });

  test('a frame split in its 4-byte header or payload is assembled', () => {
    const frame = interleavedFrame(3, Buffer.from('0123456789'));
    for (let cut = 1; cut < frame.length; cut++) {
      const c = collect();
      c.reader.push(frame.subarray(0, cut));
      assert.equal(c.frames.length, 0);
      c.reader.push(frame.subarray(cut));
      assert.deepEqual(c.frames, [{ channel: 3, payload: Buffer.from('0123456789') }]);
    }
  });

  test('header names are case-insensitive, values kept in order, folded lines joined', () => {
    const msg = 'RTSP/1.0 200 OK\r\ncseq: 5\r\nCONTENT-LENGTH: 2\r\nX-Multi: a\r\nx-multi: b\r\nX-Folded: first\r\n  second\r\n\tthird\r\nNoColonLineIsIgnored\r\n\r\nhi';
    const r: RtspResponse[] = [];
    const reader = new RtspReader({ onResponse(x) { r.push(x); }, onRequest() {}, onInterleaved() {}, onError(e) { assert.fail(e.message); } });
    reader.push(Buffer.from(msg));
    assert.equal(r.length, 1);
    const res = r[0]!;
    assert.equal(res.cseq, 5);
    assert.equal(res.body.toString(), 'hi');
    assert.equal(header(res.headers, 'Content-Length'), '2');
    assert.deepEqual(res.headers.get('x-multi'), ['a', 'b']);
    assert.equal(header(res.headers, 'X-FOLDED'), 'first second third');
    assert.equal(header(res.headers, 'missing'), undefined);
  });

  test('bare LF line endings, leading empty lines, status line without reason, CSeq with spaces or missing', () => {
    const { events } = feed(Buffer.from('\r\n\nRTSP/1.0 200\nCSeq:  9 \nContent-Length: 1\n\nxRTSP/1.0 401 Unauthorized\n\n'), 'whole');
    assert.equal(events.length, 2);
    assert.deepEqual(events.map((e) => e.t === 'res' && [e.status, e.reason, e.cseq, e.body]), [[200, '', 9, 'x'], [401, 'Unauthorized', null, '']]);
  });

  test('garbage before a message is skipped; a non-message line is skipped', () => {
    const { events } = feed(Buffer.concat([Buffer.from([0, 1, 2, 0xff]), Buffer.from('hello there\r\nRTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n')]), 'whole');
    assert.deepEqual(events.map((e) => e.t), ['res']);
  });

  test('endless garbage is an error, bounded', () => {
    const c = collect();
    for (let i = 0; i < 20; i++) c.reader.push(Buffer.alloc(8192, 0));
    assert.equal(c.events.length, 1);
    assert.equal(c.events[0]!.t, 'error');
  });

  test('a body that never ends waits without error, and reset() recovers', () => {
    const c = collect();
    c.reader.push(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nonly a little'));
    assert.equal(c.events.length, 0);
    c.reader.reset();
    c.reader.push(Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 4\r\n\r\n'));
    assert.deepEqual(c.events.map((e) => e.t), ['res']);
  });

  test('after an error, input is ignored until reset()', () => {
    const c = collect();
    c.reader.push(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\nRTSP/1.0 200 OK\r\n\r\n'));
    assert.deepEqual(c.events.map((e) => e.t), ['error']);
    c.reader.push(Buffer.from('RTSP/1.0 200 OK\r\n\r\n'));
    assert.equal(c.events.length, 1);
    c.reader.reset();
    c.reader.push(Buffer.from('RTSP/1.0 200 OK\r\n\r\n'));
    assert.deepEqual(c.events.map((e) => e.t), ['error', 'res']);
  });

  test('a handler that resets the reader stops the current chunk', () => {
    let responses = 0;
    const reader: RtspReader = new RtspReader({
      onResponse() { responses++; reader.reset(); }, onRequest() {}, onInterleaved() {}, onError() {},
    });
    reader.push(Buffer.from('RTSP/1.0 200 OK\r\n\r\nRTSP/1.0 200 OK\r\n\r\n'));
    assert.equal(responses, 1);
  });
});

describe('RtspReader limits (limit ok, limit + 1 is an error)', () => {
  const errs = (data: string | Buffer, limits?: Partial<RtspReaderLimits>): Event[] => {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const a = feed(buf, 'whole', limits).events;
    // the same verdict byte by byte
    assert.deepEqual(feed(buf, 'bytes', limits).events, a);
    return a;
  };
  const kinds = (e: Event[]): string[] => e.map((x) => x.t);

  test('status line 255', () => {
    const line = (n: number): string => `RTSP/1.0 200 ${'x'.repeat(n - 13)}`;
    assert.equal(line(255).length, 255);
    assert.deepEqual(kinds(errs(`${line(255)}\r\n\r\n`)), ['res']);
    assert.deepEqual(kinds(errs(`${line(255)}\n\n`)), ['res']);
    const e = errs(`${line(256)}\r\n\r\n`);
    assert.deepEqual(kinds(e), ['error']);
    assert.match((e[0] as { message: string }).message, /status line longer than 255 bytes/);
  });

  test('header line 8192', () => {
    const h = (n: number): string => `X-Long: ${'v'.repeat(n - 8)}`;
    assert.deepEqual(kinds(errs(`RTSP/1.0 200 OK\r\n${h(8192)}\r\n\r\n`)), ['res']);
    const e = errs(`RTSP/1.0 200 OK\r\n${h(8193)}\r\n\r\n`);
    assert.deepEqual(kinds(e), ['error']);
    assert.match((e[0] as { message: string }).message, /RTSP header line longer than 8192 bytes/);
  });

  test('header count 256', () => {
    const hs = (n: number): string => Array.from({ length: n }, (_, i) => `H${i}: v\r\n`).join('');
    assert.deepEqual(kinds(errs(`RTSP/1.0 200 OK\r\n${hs(256)}\r\n`)), ['res']);
    assert.deepEqual(kinds(errs(`RTSP/1.0 200 OK\r\n${hs(257)}\r\n`)), ['error']);
  });

  test('header block (whole head incl. line endings)', () => {
    const head = (total: number): string => {
      const start = 'RTSP/1.0 200 OK\r\n';
      const fixed = start.length + 'X: \r\n'.length + 2;
      return `${start}X: ${'a'.repeat(total - fixed)}\r\n\r\n`;
    };
    assert.equal(head(1000).length, 1000);
    assert.deepEqual(kinds(errs(head(1000), { headerBlock: 1000 })), ['res']);
    assert.deepEqual(kinds(errs(head(1001), { headerBlock: 1000 })), ['error']);
    // the default 65536 with many lines of 8 KiB
    const big = (total: number): string => {
      const start = 'RTSP/1.0 200 OK\r\n';
      let s = start;
      let left = total - start.length - 2;
      let i = 0;
      while (left > 0) {
        const n = Math.min(8000, left);
        const name = `H${i++}: `;
        s += `${name}${'z'.repeat(n - name.length - 2)}\r\n`;
        left -= n;
      }
      return `${s}\r\n`;
    };
    assert.equal(big(65536).length, 65536);
    assert.deepEqual(kinds(errs(big(65536))), ['res']);
    assert.deepEqual(kinds(errs(big(65537))), ['error']);
  });

  test('body 131072 and bad Content-Length values', () => {
    const msg = (cl: string, body = ''): Buffer => Buffer.from(`RTSP/1.0 200 OK\r\nContent-Length: ${cl}\r\n\r\n${body}`, 'latin1');
    const ok = feed(msg('131072', 'b'.repeat(131072)), 'whole').events;
    assert.deepEqual(kinds(ok), ['res']);
    assert.equal((ok[0] as { body: string }).body.length, 131072);
    for (const bad of ['131073', '-1', '9007199254740992', '99999999999999999999999', 'abc', '1.5', '0x10', '', '1 2']) {
      const e = feed(msg(bad), 'whole').events;
      assert.deepEqual(kinds(e), ['error'], `Content-Length "${bad}"`);
    }
    assert.deepEqual(kinds(feed(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'), 'whole').events), ['error']);
    assert.deepEqual(kinds(feed(msg(' 0 '), 'whole').events), ['res']);
  });

  test('interleaved limit', () => {
    assert.deepEqual(kinds(feed(interleavedFrame(0, Buffer.alloc(100)), 'whole', { interleaved: 104 }).events), ['frame']);
    assert.deepEqual(kinds(feed(interleavedFrame(0, Buffer.alloc(101)), 'whole', { interleaved: 104 }).events), ['error']);
    assert.deepEqual(kinds(feed(interleavedFrame(0, Buffer.alloc(101)), 'bytes', { interleaved: 104 }).events), ['error']);
    assert.deepEqual(kinds(feed(interleavedFrame(0, Buffer.alloc(65535)), 'whole').events), ['frame']);
  });
});

describe('RtspReader on captured streams', () => {
  test('server text of the Digest capture: every response, with the SDP body', () => {
    const texts = rtspText(readPcap(join(VECTORS, 'gst-digest-auth-tcp.pcap')));
    const server = [...texts].find(([k]) => k.startsWith('127.0.0.1:18580>'))![1];
    const client = [...texts].find(([k]) => k.endsWith('>127.0.0.1:18580'))![1];
    const whole = feed(Buffer.from(server, 'latin1'), 'whole').events as Extract<Event, { t: 'res' }>[];
    assert.deepEqual(whole.map((e) => [e.status, e.cseq]), [[200, 1], [401, 2], [200, 3], [200, 4], [200, 5], [200, 6]]);
    assert.match(whole[2]!.body, /^v=0\r\n[\s\S]*a=control:stream=0\r\n/);
    assert.equal(whole[2]!.body.length, 371);
    assert.deepEqual(feed(Buffer.from(server, 'latin1'), 'bytes').events, whole);
    // the client side holds requests: the reader reads them too (demo server use)
    const reqs = feed(Buffer.from(client, 'latin1'), randomSizes(7, 500, 40)).events as Extract<Event, { t: 'req' }>[];
    assert.deepEqual(reqs.map((r) => [r.method, r.cseq]), [['OPTIONS', 1], ['DESCRIBE', 2], ['DESCRIBE', 3], ['SETUP', 4], ['PLAY', 5], ['TEARDOWN', 6]]);
    assert.equal(reqs[3]!.uri, 'rtsp://127.0.0.1:18580/cam/stream=0');
  });

  for (const name of ['gst-tcp-320x240', 'gst-audio-pcmu-tcp']) {
    test(`${name}: the whole server→client byte stream in random chunks`, () => {
      const streams = tcpStreams(readPcap(join(VECTORS, `${name}.pcap`)));
      const [, server] = [...streams].find(([k]) => k.startsWith('127.0.0.1:18580>'))!;
      const { rtp } = vectorPackets(join(VECTORS, `${name}.pcap`));
      assert.ok(rtp.length > 100);
      for (const seed of [1, 2, 3]) {
        const c = feed(server.data, randomSizes(seed, 5000, 3000));
        assert.equal(c.events.filter((e) => e.t === 'error').length, 0);
        const ch0 = c.frames.filter((f) => f.channel === 0);
        assert.equal(ch0.length, rtp.length, 'frames on channel 0 = RTP packets');
        assert.ok(ch0.every((f, i) => f.payload.equals(rtp[i]!.packet)));
        assert.ok(c.events.filter((e) => e.t === 'res').length >= 4);
      }
      // socket-sized chunks as captured
      const c = feed(server.data, server.chunks.map((ch, i, a) => (a[i + 1]?.at ?? server.data.length) - ch.at));
      assert.equal(c.frames.filter((f) => f.channel === 0).length, rtp.length);
    });
  }
});

describe('serializers', () => {
  test('request and response round-trip through the reader', () => {
    const req = serializeRequest('SET_PARAMETER', 'rtsp://h/cam', [['CSeq', '3'], ['Content-Type', 'text/parameters']], 'a: b\r\n');
    assert.equal(req.toString(), 'SET_PARAMETER rtsp://h/cam RTSP/1.0\r\nCSeq: 3\r\nContent-Type: text/parameters\r\nContent-Length: 6\r\n\r\na: b\r\n');
    assert.equal(serializeRequest('OPTIONS', '*', [['CSeq', '1']]).toString(), 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n');
    const res = serializeResponse(200, 'OK', [['CSeq', '3'], ['Content-Base', 'rtsp://h/cam/']], Buffer.from(SDP));
    const { events } = feed(Buffer.concat([req, res, interleavedFrame(1, Buffer.from([1, 2]))]), 'whole');
    assert.equal(events.length, 3);
    const r = events[1] as Extract<Event, { t: 'res' }>;
    assert.equal(r.body, SDP);
    assert.deepEqual(events[2], { t: 'frame', channel: 1, payload: '0102' });
  });

  test('no header injection through values', () => {
    const req = serializeRequest('OPTIONS', 'rtsp://h/a b', [['User-Agent', 'x\r\nEvil: 1']]).toString();
    assert.equal(req, 'OPTIONS rtsp://h/a%20b RTSP/1.0\r\nUser-Agent: x  Evil: 1\r\n\r\n');
  });

  test('interleavedFrame', () => {
    assert.deepEqual([...interleavedFrame(2, Buffer.from([9]))], [0x24, 2, 0, 1, 9]);
    assert.throws(() => interleavedFrame(0, Buffer.alloc(65536)), RangeError);
    assert.throws(() => interleavedFrame(256, Buffer.alloc(1)), RangeError);
  });
});

describe('RtspReader property tests', () => {
  test('random bytes in random chunks never throw and stay bounded', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }), (bytes, sizes) => {
      const c = feed(Buffer.from(bytes), sizes);
      assert.ok(c.events.filter((e) => e.t === 'error').length <= 1);
    }), { numRuns: 300 });
  });

  test('random RTSP-like text never throws', () => {
    const piece = fc.constantFrom('RTSP/1.0 200 OK\r\n', 'CSeq: 1\r\n', 'Content-Length: 3\r\n', 'Content-Length: -4\r\n', '\r\n', '\n', ' folded\r\n', '$\x00\x00\x02ab', '$', 'OPTIONS * RTSP/1.0\r\n', 'abc', ':', '\x00');
    fc.assert(fc.property(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 1, max: 50 }), (pieces, size) => {
      feed(Buffer.from(pieces.join(''), 'latin1'), [size]);
    }), { numRuns: 300 });
  });

  test('any chunking of a valid stream gives the same events', () => {
    const whole = feed(MIXED, 'whole').events;
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 30 }), (sizes) => {
      assert.deepEqual(feed(MIXED, sizes).events, whole);
    }), { numRuns: 200 });
  });
});
