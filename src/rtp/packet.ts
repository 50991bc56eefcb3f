/**
 * RTP fixed header view (RFC 3550 §5.1) with the validity checks of Appendix A.1 that a
 * single packet allows. No copies: payload and extension are subarrays of the input.
 */

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** subarray of the input (no copy), padding removed */
  readonly payload: Buffer;
  /** 16-bit "defined by profile" field of the header extension, -1 when there is none */
  extensionProfile: number;
  /** extension data after the 4-byte extension header (subarray), null when there is none */
  extension: Buffer | null;
}

/**
 * What `parseRtpPacket` returns: the fields plus the whole packet and the payload's bounds in
 * it. The `payload` subarray is made only when asked for: the receive path (sequencer,
 * depacketizer) reads `data[payloadStart, payloadEnd)` directly, which saves one Buffer
 * object per packet.
 */
export class RtpPacketView implements RtpPacket {
  private pl: Buffer | null = null;
  constructor(
    /** the whole packet as passed to parseRtpPacket */
    readonly data: Buffer,
    readonly payloadStart: number,
    /** exclusive; padding removed */
    readonly payloadEnd: number,
    public marker: boolean,
    public payloadType: number,
    public sequenceNumber: number,
    public timestamp: number,
    public ssrc: number,
    public extensionProfile: number,
    public extension: Buffer | null,
  ) {}

  get payload(): Buffer {
    return this.pl ??= this.data.subarray(this.payloadStart, this.payloadEnd);
  }
}

/**
 * Parses one RTP packet. Never throws; returns null when the packet is not valid RTP:
 * version ≠ 2, shorter than the header it announces (CSRCs, extension), or a padding count
 * of 0 or larger than what follows the header (RFC 3550 §5.1 P bit, A.1).
 */
export function parseRtpPacket(buf: Buffer): RtpPacketView | null {
  const len = buf.length;
  if (len < 12) return null;
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return null;
  let off = 12 + (b0 & 0x0f) * 4; // skip CSRC list
  if (off > len) return null;
  let extensionProfile = -1;
  let extension: Buffer | null = null;
  if (b0 & 0x10) {
    // §5.3.1: 16-bit profile field, 16-bit length in 32-bit words excluding this 4-byte header.
    if (off + 4 > len) return null;
    extensionProfile = (buf[off]! << 8) | buf[off + 1]!;
    const extLen = ((buf[off + 2]! << 8) | buf[off + 3]!) * 4;
    if (off + 4 + extLen > len) return null;
    extension = buf.subarray(off + 4, off + 4 + extLen);
    off += 4 + extLen;
  }
  let end = len;
  if (b0 & 0x20) {
    // Last octet = padding count including itself.
    const pad = buf[len - 1]!;
    if (pad === 0 || pad > len - off) return null;
    end = len - pad;
  }
  const b1 = buf[1]!;
  // Byte arithmetic instead of readUInt*BE: no argument checks on the per-packet path
  // (the length was checked above); `>>> 0` keeps values ≥ 2^31 unsigned.
  return new RtpPacketView(
    buf, off, end,
    (b1 & 0x80) !== 0,
    b1 & 0x7f,
    (buf[2]! << 8) | buf[3]!,
    ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0,
    ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0,
    extensionProfile,
    extension,
  );
}
