/**
 * HTTP response head reader of the RTSP-over-HTTP tunnel (RFC 7230 §3): the replies a tunnel
 * GET meets in the wild (GStreamer's 200 with RTSP bytes behind it, 401 with Basic and Digest
 * challenges, a web UI's 200 text/html, redirects, an RTSP server answering HTTP), mutated
 * with an HTTP dictionary and pushed in random chunkings into a fresh reader with default or
 * tight limits. One case = one mutated reply through one reader.
 *
 * Invariants: push() never throws; a finished head has a 3-digit status, at most `count`
 * fields with lower-case names without ':' , and was found within the first `block` bytes;
 * the body bytes handed back are exactly the input after the head, whatever the chunking;
 * an error message is short printable ASCII (it quotes untrusted bytes).
 */
import assert from 'node:assert/strict';
import { HttpHeadReader, DEFAULT_HTTP_HEAD_LIMITS, type HttpHeadLimits } from '../../../src/transport/http-head';
import type { FuzzTarget } from '../harness';
import { mutate, tokens, type Rng } from '../mutator';

const SEEDS = [
  'HTTP/1.0 200 OK\r\nServer: GStreamer RTSP Server\r\nConnection: close\r\nCache-Control: no-store\r\nPragma: no-cache\r\n'
    + 'x-server-ip-address: 127.0.0.1\r\nContent-Type: application/x-rtsp-tunnelled\r\n\r\nRTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n$\x00\x00\x04abcd',
  'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="AXIS_ACCC8E000000", nonce="0024e47aY398109708de9ccd8056c58a068a59540a99d3", '
    + 'algorithm=MD5, qop="auth"\r\nWWW-Authenticate: Basic realm="AXIS_ACCC8E000000"\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n<html><body></body>',
  'HTTP/1.1 302 Found\r\nLocation: http://10.0.0.2/login.asp\r\n\r\n',
  'HTTP/1.0 404 Not Found\nServer: x\n\n',
  'RTSP/1.0 400 Bad Request\r\nCSeq: 0\r\n\r\n',
  '\r\nHTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n folded\r\n\r\n',
].map((s) => Buffer.from(s, 'latin1'));
const DICT = tokens('\r\n', '\n', '\r\n\r\n', '\n\n', ':', ': ', ' ', '\t', 'HTTP/1.0 ', 'HTTP/1.1 200 OK', '999', '000', 'Content-Type: ',
  'application/x-rtsp-tunnelled', 'WWW-Authenticate: ', '\x00', '\xff', 'RTSP/1.0 ');
const TIGHT: HttpHeadLimits = { line: 48, count: 4, block: 160 };

/** Runs `input` through a fresh reader in the given chunk sizes (cycled); throws on a broken invariant. */
export function checkHead(input: Buffer, limits: HttpHeadLimits, sizes: readonly number[]): 'done' | 'error' | 'more' {
  const reader = new HttpHeadReader(limits);
  let off = 0;
  let k = 0;
  let headEnd = -1;
  const body: Buffer[] = [];
  let state: 'done' | 'error' | 'more' = 'more';
  while (off < input.length) {
    const chunk = input.subarray(off, off + Math.max(1, sizes[k++ % sizes.length]!));
    const r = reader.push(chunk);
    if (state === 'done') {
      assert.equal(r.state, 'done');
      if (r.state === 'done') { assert.equal(r.rest, 0); body.push(chunk); }
    } else if (r.state === 'done') {
      state = 'done';
      assert.ok(r.rest >= 0 && r.rest <= chunk.length, `rest ${r.rest} outside chunk of ${chunk.length}`);
      headEnd = off + r.rest;
      assert.ok(headEnd <= limits.block, `head of ${headEnd} bytes > block ${limits.block}`);
      body.push(chunk.subarray(r.rest));
      const h = r.head;
      assert.ok(Number.isInteger(h.statusCode) && h.statusCode >= 0 && h.statusCode <= 999, `status ${h.statusCode}`);
      assert.match(h.version, /^HTTP\/\d\.\d$/);
      let fields = 0;
      for (const [name, values] of h.headers) {
        fields += values.length;
        assert.equal(name, name.toLowerCase());
        assert.ok(!name.includes(':') && name.length > 0, `field name ${JSON.stringify(name)}`);
      }
      assert.ok(fields <= limits.count, `${fields} fields > ${limits.count}`);
    } else if (r.state === 'error') {
      state = 'error';
      assert.ok(r.message.length < 200 && /^[\x20-\x7e]+$/.test(r.message), `error message ${JSON.stringify(r.message)}`);
      assert.equal(reader.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\n')).state, 'error', 'an error is final');
      break;
    }
    off += chunk.length;
  }
  if (state === 'done') assert.deepEqual(Buffer.concat(body), input.subarray(headEnd), 'body bytes differ from the input after the head');
  else if (state === 'more') assert.ok(input.length <= limits.block, `no verdict after ${input.length} bytes > block ${limits.block}`);
  return state;
}

/** Replay: whole, byte by byte and in 7-byte chunks, with both limit sets; the verdict must not depend on the chunking. */
export function replayHead(input: Buffer): void {
  for (const limits of [DEFAULT_HTTP_HEAD_LIMITS, TIGHT]) {
    const verdicts = [[input.length || 1], [1], [7]].map((sizes) => checkHead(input, limits, sizes));
    assert.ok(verdicts.every((v) => v === verdicts[0]), `verdict depends on chunking: ${verdicts.join(', ')}`);
  }
}

export function httpHeadTarget(): FuzzTarget {
  return {
    name: 'http-head',
    unit: 'one mutated tunnel GET reply through a fresh head reader in random chunks',
    start() {
      let input: Buffer = Buffer.alloc(0);
      const counts = { done: 0, error: 0, more: 0 };
      return {
        step(rng: Rng) {
          input = mutate(rng, rng.pick(SEEDS), { maxLength: 2048, dictionary: DICT, other: rng.pick(SEEDS) });
          const sizes = Array.from({ length: 1 + rng.int(4) }, () => 1 + rng.int(rng.chance(1, 2) ? 8 : 400));
          counts[checkHead(input, rng.chance(1, 3) ? TIGHT : DEFAULT_HTTP_HEAD_LIMITS, sizes)]++;
        },
        reproducer: () => input,
        summary: () => `${counts.done} heads, ${counts.error} errors, ${counts.more} incomplete`,
      };
    },
    replay: replayHead,
  };
}
