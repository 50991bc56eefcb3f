/**
 * Writing RTSP/1.0 messages (RFC 2326 §6 requests, §7 responses) and `$`-framed interleaved
 * binary data (§10.12). Header values cannot inject lines: CR, LF and NUL become spaces.
 */

/** CR, LF and NUL would let a value inject lines into the message: replaced by spaces. */
function clean(s: string): string {
  return s.replace(/[\r\n\0]/g, ' ');
}

function serialize(startLine: string, headers: [string, string][], body?: Buffer | string): Buffer {
  const payload = body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let head = `${clean(startLine)}\r\n`;
  let hasLength = false;
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'content-length') hasLength = true;
    head += `${clean(name)}: ${clean(value)}\r\n`;
  }
  if (payload.length > 0 && !hasLength) head += `Content-Length: ${payload.length}\r\n`;
  head += '\r\n';
  return payload.length > 0 ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : Buffer.from(head, 'latin1');
}

/** "METHOD uri RTSP/1.0" + headers (+ Content-Length when there is a body) + body (RFC 2326 §6). */
export function serializeRequest(method: string, uri: string, headers: [string, string][], body?: Buffer | string): Buffer {
  return serialize(`${method} ${uri.replace(/\s/g, '%20')} RTSP/1.0`, headers, body);
}

/** "RTSP/1.0 code reason" + headers (+ Content-Length) + body (RFC 2326 §7). */
export function serializeResponse(statusCode: number, reason: string, headers: [string, string][], body?: Buffer | string): Buffer {
  return serialize(`RTSP/1.0 ${statusCode} ${reason}`, headers, body);
}

/**
 * `$`, channel, 16-bit length, payload (RFC 2326 §10.12).
 * Throws RangeError for a channel outside 0..255 or a payload over 65535 bytes: those cannot be
 * encoded, and only the caller's own code can produce them.
 */
export function interleavedFrame(channel: number, payload: Buffer): Buffer {
  return interleavedFrames(channel, [payload]);
}

/** Packets of one channel `$`-framed back to back in one Buffer (one socket write for many). */
export function interleavedFrames(channel: number, payloads: readonly Buffer[]): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw new RangeError(`interleaved channel ${channel} out of range`);
  let total = 0;
  for (const p of payloads) {
    if (p.length > 0xffff) throw new RangeError(`interleaved payload of ${p.length} bytes exceeds 65535`);
    total += 4 + p.length;
  }
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (const p of payloads) {
    out[o] = 0x24; // '$'
    out[o + 1] = channel;
    out.writeUInt16BE(p.length, o + 2);
    p.copy(out, o + 4);
    o += 4 + p.length;
  }
  return out;
}
