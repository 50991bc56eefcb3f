/**
 * RTCP compound packet parser (RFC 3550 §6.4–6.7, validity checks of A.2).
 *
 * Pure function over a Buffer: never throws, never reads outside the buffer. Leniency choices
 * (each one seen from real senders):
 * - every packet of the compound is parsed, advancing by (length + 1) · 4;
 * - a packet whose body is malformed is dropped and `error` is set, but packets before it are
 *   kept, and since its length field still frames it, parsing continues after it;
 * - a length field pointing outside the buffer (or a non-version-2 header) stops parsing;
 * - SDES chunks without the terminating null item are accepted (Hanwha QNV-8080R);
 * - the first packet is not required to be SR/RR (some senders send a bare SDES or BYE),
 *   and the P bit is honoured on any packet, not only the last;
 * - unknown packet types (XR, RTPFB, PSFB, …) are reported as `unknown` and skipped by length.
 */

export const RTCP_PT_SR = 200;
export const RTCP_PT_RR = 201;
export const RTCP_PT_SDES = 202;
export const RTCP_PT_BYE = 203;
export const RTCP_PT_APP = 204;

/** SDES item types (§6.5). */
export const SDES_END = 0;
export const SDES_CNAME = 1;
export const SDES_NAME = 2;
export const SDES_EMAIL = 3;
export const SDES_PHONE = 4;
export const SDES_LOC = 5;
export const SDES_TOOL = 6;
export const SDES_NOTE = 7;
export const SDES_PRIV = 8;

export interface ReportBlock {
  ssrc: number;
  /** fraction lost since the previous report, 8-bit fixed point (0..255 = 0..255/256) */
  fractionLost: number;
  /** cumulative number of packets lost, signed 24-bit (negative with duplicates) */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** interarrival jitter in RTP timestamp units */
  jitter: number;
  /** middle 32 bits of the NTP timestamp of the last SR received, 0 if none */
  lastSr: number;
  /** delay since that SR in units of 1/65536 s, 0 if none */
  delaySinceLastSr: number;
}

export interface SenderReportPacket {
  type: 'SR';
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}

export interface ReceiverReportPacket {
  type: 'RR';
  ssrc: number;
  reports: ReportBlock[];
}

export interface SdesItem {
  /** 1 = CNAME, 2 = NAME, … 8 = PRIV (§6.5) */
  type: number;
  value: string;
}

export interface SdesPacket {
  type: 'SDES';
  chunks: { ssrc: number; items: SdesItem[] }[];
}

export interface ByePacket {
  type: 'BYE';
  ssrcs: number[];
  reason: string | null;
}

export interface AppPacket {
  type: 'APP';
  subtype: number;
  ssrc: number;
  /** four ASCII characters */
  name: string;
  data: Buffer;
}

export interface UnknownRtcpPacket {
  type: 'unknown';
  packetType: number;
}

export type RtcpPacket =
  | SenderReportPacket
  | ReceiverReportPacket
  | SdesPacket
  | ByePacket
  | AppPacket
  | UnknownRtcpPacket;

const HEADER = 4;
const REPORT_BLOCK = 24;
const SENDER_INFO = 20;

/** Result of parsing one packet body: the packet, or a reason it is malformed. */
type BodyResult = { packet: RtcpPacket } | { error: string };

/**
 * Parses every packet of an RTCP compound datagram (or interleaved frame).
 * Returns the packets that parsed and the first problem found, or `null` when clean.
 */
export function parseRtcpCompound(buf: Buffer): { packets: RtcpPacket[]; error: string | null } {
  const packets: RtcpPacket[] = [];
  let error: string | null = null;
  let off = 0;
  if (buf.length === 0) return { packets, error: 'empty RTCP datagram' };
  while (off < buf.length) {
    if (buf.length - off < HEADER) {
      error ??= `truncated RTCP header at offset ${off}`;
      break;
    }
    const b0 = buf[off]!;
    if (b0 >> 6 !== 2) {
      error ??= `RTCP version ${b0 >> 6} at offset ${off}`;
      break;
    }
    const pt = buf[off + 1]!;
    const size = (buf.readUInt16BE(off + 2) + 1) * 4;
    if (off + size > buf.length) {
      error ??= `RTCP length ${size} at offset ${off} exceeds datagram (${buf.length - off} bytes left)`;
      break;
    }
    let end = off + size;
    if (b0 & 0x20) {
      // Padding (§6.4.1): the last octet counts the padding octets including itself.
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > size - HEADER) {
        error ??= `RTCP padding ${pad} invalid at offset ${off}`;
        off += size;
        continue;
      }
      end -= pad;
    }
    const r = parseBody(buf, off, end, pt, b0 & 0x1f);
    if ('packet' in r) packets.push(r.packet);
    else error ??= `${r.error} at offset ${off}`;
    off += size;
  }
  return { packets, error };
}

function parseBody(buf: Buffer, off: number, end: number, pt: number, count: number): BodyResult {
  switch (pt) {
    case RTCP_PT_SR:
      return parseSr(buf, off, end, count);
    case RTCP_PT_RR:
      return parseRr(buf, off, end, count);
    case RTCP_PT_SDES:
      return parseSdes(buf, off, end, count);
    case RTCP_PT_BYE:
      return parseBye(buf, off, end, count);
    case RTCP_PT_APP:
      return parseApp(buf, off, end, count);
    default:
      return { packet: { type: 'unknown', packetType: pt } };
  }
}

function readBlocks(buf: Buffer, at: number, count: number): ReportBlock[] {
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++, at += REPORT_BLOCK) {
    reports.push({
      ssrc: buf.readUInt32BE(at),
      fractionLost: buf[at + 4]!,
      // 24-bit two's complement (§6.4.1): shift into the top of an int32 and back.
      cumulativeLost: ((buf.readUIntBE(at + 5, 3) << 8) >> 8),
      extendedHighestSeq: buf.readUInt32BE(at + 8),
      jitter: buf.readUInt32BE(at + 12),
      lastSr: buf.readUInt32BE(at + 16),
      delaySinceLastSr: buf.readUInt32BE(at + 20),
    });
  }
  return reports;
}

function parseSr(buf: Buffer, off: number, end: number, rc: number): BodyResult {
  const need = HEADER + 4 + SENDER_INFO + rc * REPORT_BLOCK;
  if (end - off < need) return { error: `SR too short for ${rc} report blocks` };
  // Profile-specific extensions after the blocks (§6.4.1) are ignored.
  return {
    packet: {
      type: 'SR',
      ssrc: buf.readUInt32BE(off + 4),
      ntpSeconds: buf.readUInt32BE(off + 8),
      ntpFraction: buf.readUInt32BE(off + 12),
      rtpTimestamp: buf.readUInt32BE(off + 16),
      packetCount: buf.readUInt32BE(off + 20),
      octetCount: buf.readUInt32BE(off + 24),
      reports: readBlocks(buf, off + 28, rc),
    },
  };
}

function parseRr(buf: Buffer, off: number, end: number, rc: number): BodyResult {
  if (end - off < HEADER + 4 + rc * REPORT_BLOCK) return { error: `RR too short for ${rc} report blocks` };
  return { packet: { type: 'RR', ssrc: buf.readUInt32BE(off + 4), reports: readBlocks(buf, off + 8, rc) } };
}

function parseSdes(buf: Buffer, off: number, end: number, sc: number): BodyResult {
  const chunks: { ssrc: number; items: SdesItem[] }[] = [];
  let at = off + HEADER;
  for (let c = 0; c < sc; c++) {
    if (end - at < 4) return { error: `SDES has ${c} of ${sc} chunks` };
    const ssrc = buf.readUInt32BE(at);
    at += 4;
    const items: SdesItem[] = [];
    while (at < end) {
      const type = buf[at]!;
      if (type === SDES_END) {
        // Null item, then zero padding up to the next 32-bit boundary of the packet (§6.5).
        at = off + Math.ceil((at + 1 - off) / 4) * 4;
        break;
      }
      if (end - at < 2) return { error: 'SDES item header truncated' };
      const len = buf[at + 1]!;
      if (at + 2 + len > end) return { error: 'SDES item longer than packet' };
      items.push({ type, value: buf.toString('utf8', at + 2, at + 2 + len) });
      at += 2 + len;
    }
    // Missing END item (the loop ran into the end of the packet): tolerated, Hanwha cameras
    // send CNAME chunks like that. Any further chunk is then reported missing above.
    chunks.push({ ssrc, items });
  }
  return { packet: { type: 'SDES', chunks } };
}

function parseBye(buf: Buffer, off: number, end: number, sc: number): BodyResult {
  let at = off + HEADER;
  if (end - at < sc * 4) return { error: `BYE too short for ${sc} SSRCs` };
  const ssrcs: number[] = [];
  for (let i = 0; i < sc; i++, at += 4) ssrcs.push(buf.readUInt32BE(at));
  let reason: string | null = null;
  if (at < end) {
    const len = buf[at]!;
    if (at + 1 + len > end) return { error: 'BYE reason longer than packet' };
    // A zero length byte here is just the padding of a reason-less BYE.
    if (len > 0) reason = buf.toString('utf8', at + 1, at + 1 + len);
  }
  return { packet: { type: 'BYE', ssrcs, reason } };
}

function parseApp(buf: Buffer, off: number, end: number, subtype: number): BodyResult {
  if (end - off < 12) return { error: 'APP too short' };
  return {
    packet: {
      type: 'APP',
      subtype,
      ssrc: buf.readUInt32BE(off + 4),
      name: buf.toString('latin1', off + 8, off + 12),
      data: Buffer.from(buf.subarray(off + 12, end)),
    },
  };
}

/**
 * True when a datagram/frame on a multiplexed channel is RTCP rather than RTP: version 2 and
 * the second byte in 192..223 (RFC 5761 §4). Those values are RTP payload types 64..95 with the
 * marker bit, which RFC 5761 reserves precisely so this test is unambiguous; the range covers
 * SR/RR/SDES/BYE/APP (200..204) and the feedback/XR types (205..207) too.
 */
export function isRtcpPacket(buf: Buffer): boolean {
  if (buf.length < HEADER || buf[0]! >> 6 !== 2) return false;
  const b1 = buf[1]!;
  return b1 >= 192 && b1 <= 223;
}
