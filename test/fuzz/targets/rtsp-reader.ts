/**
 * RTSP reader (RFC 2326 §6/§7 messages, §10.12 interleaved `$` frames): windows of the real
 * TCP byte streams of the captures (GStreamer responses with SDP bodies and interleaved
 * RTP/RTCP, FFmpeg requests with Digest/Basic credentials), mutated with an RTSP dictionary,
 * pushed in random chunkings (1 byte … whole window) into readers with default or tight
 * limits. On onError the reader is reset, from inside the handler or after push() returns.
 * One case = one push() call; a fresh reader per window.
 *
 * Invariants: push() never throws; every message respects the limits (header fields, body
 * length), interleaved payloads fit the 16-bit length and the channel is a byte; buffered
 * bytes stay bounded: the line buffer, body buffer and split-frame buffer never exceed the
 * configured limits (read from the reader's private fields, skipped if they are renamed).
 */
import assert from 'node:assert/strict';
import { RtspReader, DEFAULT_READER_LIMITS, type RtspReaderLimits, type Headers } from '../../../src/rtsp/message';
import { rtspStreams } from '../corpus';
import type { FuzzTarget } from '../harness';
import { mutate, packRecords, tokens, unpackRecords, type Rng } from '../mutator';

const DICT = tokens('\r\n', '\n', '\r\n\r\n', '$', '$\x00', '$\x01\xff\xff', 'RTSP/1.0 200 OK\r\n', 'RTSP/1.0 401 Unauthorized\r\n',
  'OPTIONS * RTSP/1.0\r\n', 'SET_PARAMETER rtsp://h/ RTSP/1.0\r\n', 'Content-Length: ', 'Content-Length: 0\r\n',
  'Content-Length: 99999999\r\n', 'Content-Length: -1\r\n', 'Content-Length: 10\r\n', 'CSeq: ', 'CSeq: 99999999999999999999\r\n',
  ' folded\r\n', '\t', ':', ': ', 'Session: x;timeout=60\r\n', 'WWW-Authenticate: Digest realm="r", nonce="n"\r\n', '\x00', '\xff');

/** Private fields whose sizes bound the reader's memory. */
interface ReaderInternals { line?: Buffer; body?: Buffer; frame?: Buffer; headers?: Headers }

const TIGHT: RtspReaderLimits = { statusLine: 40, headerLine: 64, headerCount: 8, headerBlock: 512, body: 1024, interleaved: 1404 };

class Checked {
  readonly reader: RtspReader;
  messages = 0;
  frames = 0;
  errors = 0;
  resetLater = false;

  constructor(readonly limits: RtspReaderLimits, resetInHandler: boolean) {
    const checkHead = (headers: Headers, body: Buffer): void => {
      let n = 0;
      for (const v of headers.values()) n += v.length;
      assert.ok(n <= limits.headerCount, `${n} header fields > limit ${limits.headerCount}`);
      assert.ok(body.length <= limits.body, `body ${body.length} > limit ${limits.body}`);
    };
    this.reader = new RtspReader({
      onResponse: (res) => {
        this.messages++;
        assert.ok(Number.isInteger(res.statusCode) && res.statusCode >= 0 && res.statusCode <= 999, `status ${res.statusCode}`);
        assert.ok(res.cseq === null || Number.isSafeInteger(res.cseq), `cseq ${res.cseq}`);
        checkHead(res.headers, res.body);
      },
      onRequest: (req) => {
        this.messages++;
        assert.ok(req.method.length > 0 && req.uri.length > 0);
        checkHead(req.headers, req.body);
      },
      onInterleaved: (channel, data, start, end) => {
        const payload = data.subarray(start, end);
        this.frames++;
        assert.ok(start >= 0 && start <= end && end <= data.length, `bounds ${start}..${end} outside ${data.length}`);
        assert.ok(Number.isInteger(channel) && channel >= 0 && channel <= 255, `channel ${channel}`);
        assert.ok(payload.length <= 0xffff && payload.length + 4 <= limits.interleaved, `interleaved payload ${payload.length} > limit ${limits.interleaved}`);
      },
      onError: (err) => {
        this.errors++;
        assert.ok(err instanceof Error);
        if (resetInHandler) this.reader.reset(); else this.resetLater = true;
      },
    }, limits);
  }

  push(chunk: Buffer): void {
    this.reader.push(chunk);
    if (this.resetLater) { this.resetLater = false; this.reader.reset(); }
    const r = this.reader as unknown as ReaderInternals;
    const l = this.limits;
    if (r.line instanceof Buffer) assert.ok(r.line.length <= Math.max(l.headerLine, l.statusLine) + 2, `line buffer ${r.line.length}`);
    if (r.body instanceof Buffer) assert.ok(r.body.length <= l.body, `body buffer ${r.body.length} > limit ${l.body}`);
    if (r.frame instanceof Buffer) assert.ok(r.frame.length <= Math.min(l.interleaved, 0xffff + 4), `frame buffer ${r.frame.length} > limit ${l.interleaved}`);
  }
}

function limitsRecord(l: RtspReaderLimits, resetInHandler: boolean): Buffer {
  const b = Buffer.alloc(28);
  [l.statusLine, l.headerLine, l.headerCount, l.headerBlock, l.body, l.interleaved].forEach((v, i) => b.writeUInt32BE(v, 4 * i));
  b.writeUInt32BE(resetInHandler ? 1 : 0, 24);
  return b;
}

export function rtspReaderTarget(): FuzzTarget {
  return {
    name: 'rtsp-reader',
    unit: 'one push() of a chunk of a mutated real RTSP/interleaved TCP stream window (fresh reader per window)',
    start() {
      const streams = rtspStreams();
      let log: Buffer[] = [];
      let c: Checked | null = null;
      let chunks: Buffer[] = [];
      let messages = 0;
      let frames = 0;
      let errors = 0;
      let bytes = 0;
      const fresh = (rng: Rng): void => {
        if (c) { messages += c.messages; frames += c.frames; errors += c.errors; }
        const limits = rng.chance(1, 3) ? TIGHT : { ...DEFAULT_READER_LIMITS };
        const inHandler = rng.chance(1, 2);
        c = new Checked(limits, inHandler);
        log = [limitsRecord(limits, inHandler)];
        const s = rng.pick(streams);
        const at = rng.chance(1, 3) ? 0 : rng.int(s.length);
        const win = s.subarray(at, at + rng.pick([64, 600, 3000, 12000, 40000]));
        const data = rng.chance(1, 6) ? Buffer.from(win) : mutate(rng, win, { maxLength: 48000, dictionary: DICT, other: rng.pick(streams).subarray(0, 4000), maxStack: 8 });
        bytes += data.length;
        chunks = [];
        // 0: 1-byte chunks, 1: small, 2: TCP-segment sized, 3: mixed (byte-sized chunks only
        // for short windows, so one run covers thousands of windows).
        const style = data.length <= 700 ? rng.int(4) : 2 + rng.int(2);
        for (let o = 0; o < data.length;) {
          const n = style === 0 ? 1 : style === 1 ? rng.range(1, 16) : style === 2 ? rng.range(500, 66000) : rng.chance(1, 4) ? rng.range(1, 8) : rng.range(100, 5000);
          chunks.push(data.subarray(o, o + n));
          o += n;
        }
        chunks.reverse(); // pop() from the end = in order
      };
      return {
        step(rng: Rng) {
          while (chunks.length === 0) fresh(rng);
          const chunk = chunks.pop()!;
          log.push(chunk);
          c!.push(chunk);
        },
        reproducer: () => packRecords(log),
        summary: () => `${(bytes / 1e6).toFixed(1)} MB fed; ${messages} messages, ${frames} interleaved frames, ${errors} protocol errors reported`,
      };
    },
    replay(input: Buffer) {
      const [o, ...chunks] = unpackRecords(input);
      if (!o || o.length < 28) return;
      const l: RtspReaderLimits = {
        statusLine: o.readUInt32BE(0), headerLine: o.readUInt32BE(4), headerCount: o.readUInt32BE(8),
        headerBlock: o.readUInt32BE(12), body: o.readUInt32BE(16), interleaved: o.readUInt32BE(20),
      };
      const c = new Checked(l, o.readUInt32BE(24) === 1);
      for (const ch of chunks) c.push(ch);
    },
  };
}
