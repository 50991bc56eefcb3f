/**
 * RTCP packet serializers (RFC 3550 §6.4–6.6). Pure: values in, Buffer out.
 *
 * A receiver sends compound packets RR → SDES(CNAME) [→ BYE] (§6.1); the demo camera sends
 * SR → SDES(CNAME). Nothing here sets the P bit: every packet is naturally 32-bit aligned.
 */
import {
  RTCP_PT_BYE, RTCP_PT_RR, RTCP_PT_SDES, RTCP_PT_SR, SDES_CNAME, type ReportBlock,
} from './packet';
import { msToNtp } from './ntp';

const REPORT_BLOCK = 24;
/** RC/SC are 5-bit fields (§6.4.1). */
const MAX_COUNT = 31;

function writeHeader(buf: Buffer, off: number, count: number, pt: number, size: number): void {
  buf[off] = 0x80 | (count & 0x1f);
  buf[off + 1] = pt;
  // Length in 32-bit words minus one (§6.4.1).
  buf.writeUInt16BE(size / 4 - 1, off + 2);
}

/** Signed 24-bit field: clamp to [−2^23, 2^23−1], then two's complement (§6.4.1, A.3). */
function encodeCumulativeLost(n: number): number {
  const v = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(n) || 0));
  return v & 0xffffff;
}

function writeBlock(buf: Buffer, at: number, b: ReportBlock): void {
  buf.writeUInt32BE(b.ssrc >>> 0, at);
  buf[at + 4] = Math.max(0, Math.min(255, Math.trunc(b.fractionLost) || 0));
  buf.writeUIntBE(encodeCumulativeLost(b.cumulativeLost), at + 5, 3);
  buf.writeUInt32BE(b.extendedHighestSeq >>> 0, at + 8);
  buf.writeUInt32BE(b.jitter >>> 0, at + 12);
  buf.writeUInt32BE(b.lastSr >>> 0, at + 16);
  buf.writeUInt32BE(b.delaySinceLastSr >>> 0, at + 20);
}

/**
 * Receiver report (PT 201). With no blocks this is the "empty RR" that must still head a
 * compound (§6.4.2). More than 31 blocks are split into additional RR packets that follow
 * the first one, as §6.4.2 says.
 */
export function buildReceiverReport(ssrc: number, blocks: ReportBlock[]): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  do {
    const chunk = blocks.slice(i, i + MAX_COUNT);
    const size = 8 + chunk.length * REPORT_BLOCK;
    const buf = Buffer.alloc(size);
    writeHeader(buf, 0, chunk.length, RTCP_PT_RR, size);
    buf.writeUInt32BE(ssrc >>> 0, 4);
    chunk.forEach((b, k) => writeBlock(buf, 8 + k * REPORT_BLOCK, b));
    parts.push(buf);
    i += MAX_COUNT;
  } while (i < blocks.length);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * SDES (PT 202) with one chunk: our SSRC and a CNAME item, then the null item and zero padding
 * to the next 32-bit boundary (§6.5). The CNAME is UTF-8, cut to the 255-byte item limit on a
 * character boundary.
 */
export function buildSdesCname(ssrc: number, cname: string): Buffer {
  const text = utf8Limited(cname, 255);
  // header 4 + ssrc 4 + type 1 + length 1 + text, then ≥ 1 null octet, rounded up to 4.
  const size = Math.ceil((4 + 4 + 2 + text.length + 1) / 4) * 4;
  const buf = Buffer.alloc(size);
  writeHeader(buf, 0, 1, RTCP_PT_SDES, size);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  buf[8] = SDES_CNAME;
  buf[9] = text.length;
  text.copy(buf, 10);
  return buf;
}

/** RR then SDES CNAME: the minimal valid compound a receiver sends (§6.1). */
export function buildReceiverReportCompound(opts: { ssrc: number; cname: string; blocks: ReportBlock[] }): Buffer {
  return Buffer.concat([buildReceiverReport(opts.ssrc, opts.blocks), buildSdesCname(opts.ssrc, opts.cname)]);
}

/** Sender report (PT 200) without report blocks; the NTP time comes from a wall clock in ms. */
export function buildSenderReport(opts: {
  ssrc: number; ntpMs: number; rtpTimestamp: number; packetCount: number; octetCount: number;
}): Buffer {
  const size = 28;
  const buf = Buffer.alloc(size);
  writeHeader(buf, 0, 0, RTCP_PT_SR, size);
  const ntp = msToNtp(opts.ntpMs);
  buf.writeUInt32BE(opts.ssrc >>> 0, 4);
  buf.writeUInt32BE(ntp.seconds >>> 0, 8);
  buf.writeUInt32BE(ntp.fraction >>> 0, 12);
  buf.writeUInt32BE(opts.rtpTimestamp >>> 0, 16);
  // Counters wrap modulo 2^32 (§6.4.1).
  buf.writeUInt32BE(opts.packetCount >>> 0, 20);
  buf.writeUInt32BE(opts.octetCount >>> 0, 24);
  return buf;
}

/** SR then SDES CNAME (§6.1), as a sender's regular compound. */
export function buildSenderReportCompound(opts: {
  ssrc: number; cname: string; ntpMs: number; rtpTimestamp: number; packetCount: number; octetCount: number;
}): Buffer {
  return Buffer.concat([buildSenderReport(opts), buildSdesCname(opts.ssrc, opts.cname)]);
}

/**
 * BYE (PT 203, §6.6) for up to 31 SSRCs (extra ones are dropped: a receiver leaves with one),
 * with an optional UTF-8 reason (≤ 255 bytes) padded with zeros to 32 bits. To leave a session
 * append it to a report compound: RR + SDES + BYE.
 */
export function buildBye(ssrcs: number[], reason?: string): Buffer {
  const list = ssrcs.slice(0, MAX_COUNT);
  const text = reason !== undefined && reason !== '' ? utf8Limited(reason, 255) : null;
  const size = 4 + list.length * 4 + (text ? Math.ceil((1 + text.length) / 4) * 4 : 0);
  const buf = Buffer.alloc(size);
  writeHeader(buf, 0, list.length, RTCP_PT_BYE, size);
  list.forEach((s, i) => buf.writeUInt32BE(s >>> 0, 4 + i * 4));
  if (text) {
    const at = 4 + list.length * 4;
    buf[at] = text.length;
    text.copy(buf, at + 1);
  }
  return buf;
}

/** UTF-8 bytes of s, at most max bytes, never splitting a multi-byte character. */
function utf8Limited(s: string, max: number): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return b;
  let n = max;
  // Back off over continuation bytes (10xxxxxx) so the cut lands on a character start.
  while (n > 0 && (b[n]! & 0xc0) === 0x80) n--;
  return b.subarray(0, n);
}
