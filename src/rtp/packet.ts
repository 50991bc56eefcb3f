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
  readonly extension: Buffer | null;
  /**
   * For senders that re-fill one object per packet: a copy that stays as it is. Anyone
   * keeping a packet past the call that gave it calls this when present.
   */
  retain?(): RtpPacket;
}

const EMPTY = Buffer.alloc(0);

/**
 * What `parseRtpPacket` returns: the fields plus the packet's bytes and the payload's bounds in
 * them. `payload` and `extension` subarrays are made only when asked for: the receive path
 * (sequencer, depacketizer) reads `data[payloadStart, payloadEnd)` directly.
 *
 * A receiver keeps ONE view per track and re-fills it with `parse()` for every packet (no
 * object per packet). Whoever keeps a packet beyond the call that handed it over (the
 * sequencer's reorder buffer, probation) calls `retain()`, which copies the view (not the
 * bytes: they belong to a per-read Buffer that is never overwritten).
 */
export class RtpPacketView implements RtpPacket {
  private pl: Buffer | null = null;
  private ext: Buffer | null = null;
  data: Buffer = EMPTY;
  payloadStart = 0;
  /** exclusive; padding removed */
  payloadEnd = 0;
  marker = false;
  payloadType = 0;
  sequenceNumber = 0;
  timestamp = 0;
  ssrc = 0;
  extensionProfile = -1;
  /** bounds of the extension data in `data` (after its 4-byte header); start < 0 when none */
  private extStart = -1;
  private extEnd = -1;
  /** set by parse(): this object will be re-filled, so keeping it needs retain() */
  private reused = false;

  get payload(): Buffer {
    return this.pl ??= this.data.subarray(this.payloadStart, this.payloadEnd);
  }

  get extension(): Buffer | null {
    if (this.extStart < 0) return null;
    return this.ext ??= this.data.subarray(this.extStart, this.extEnd);
  }

  /** A view that stays as it is: this one when it is not re-filled, else a copy of its fields. */
  retain(): RtpPacketView {
    if (!this.reused) return this;
    const c = new RtpPacketView();
    c.data = this.data;
    c.payloadStart = this.payloadStart;
    c.payloadEnd = this.payloadEnd;
    c.marker = this.marker;
    c.payloadType = this.payloadType;
    c.sequenceNumber = this.sequenceNumber;
    c.timestamp = this.timestamp;
    c.ssrc = this.ssrc;
    c.extensionProfile = this.extensionProfile;
    c.extStart = this.extStart;
    c.extEnd = this.extEnd;
    return c;
  }

  /**
   * Re-fills this view with the RTP packet in `buf[start, end)`. Never throws; returns false
   * (and leaves the view unusable) when it is not valid RTP: version ≠ 2, shorter than the
   * header it announces (CSRCs, extension), or a padding count of 0 or larger than what
   * follows the header (RFC 3550 §5.1 P bit, A.1).
   */
  parse(buf: Buffer, start: number, end: number): boolean {
    this.reused = true;
    return this.fill(buf, start, end);
  }

  private fill(buf: Buffer, start: number, end: number): boolean {
    if (end - start < 12) return false;
    const b0 = buf[start]!;
    if (b0 >> 6 !== 2) return false;
    let off = start + 12 + (b0 & 0x0f) * 4; // skip CSRC list
    if (off > end) return false;
    let extensionProfile = -1;
    let extStart = -1, extEnd = -1;
    if (b0 & 0x10) {
      // §5.3.1: 16-bit profile field, 16-bit length in 32-bit words excluding this 4-byte header.
      if (off + 4 > end) return false;
      extensionProfile = (buf[off]! << 8) | buf[off + 1]!;
      const extLen = ((buf[off + 2]! << 8) | buf[off + 3]!) * 4;
      if (off + 4 + extLen > end) return false;
      extStart = off + 4;
      extEnd = off + 4 + extLen;
      off = extEnd;
    }
    let plEnd = end;
    if (b0 & 0x20) {
      // Last octet = padding count including itself.
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > end - off) return false;
      plEnd = end - pad;
    }
    const b1 = buf[start + 1]!;
    this.data = buf;
    this.payloadStart = off;
    this.payloadEnd = plEnd;
    this.pl = null;
    this.ext = null;
    this.extStart = extStart;
    this.extEnd = extEnd;
    this.extensionProfile = extensionProfile;
    // Byte arithmetic instead of readUInt*BE: no argument checks on the per-packet path
    // (the length was checked above); `>>> 0` keeps values ≥ 2^31 unsigned.
    this.marker = (b1 & 0x80) !== 0;
    this.payloadType = b1 & 0x7f;
    this.sequenceNumber = (buf[start + 2]! << 8) | buf[start + 3]!;
    this.timestamp = ((buf[start + 4]! << 24) | (buf[start + 5]! << 16) | (buf[start + 6]! << 8) | buf[start + 7]!) >>> 0;
    this.ssrc = ((buf[start + 8]! << 24) | (buf[start + 9]! << 16) | (buf[start + 10]! << 8) | buf[start + 11]!) >>> 0;
    return true;
  }

  /** A fresh view of `buf` (kept as it is: retain() returns it), or null when not valid RTP. */
  static of(buf: Buffer): RtpPacketView | null {
    const v = new RtpPacketView();
    return v.fill(buf, 0, buf.length) ? v : null;
  }
}

/**
 * Parses one RTP packet into a new view (see RtpPacketView.parse for the checks). Never
 * throws; returns null when the packet is not valid RTP.
 */
export function parseRtpPacket(buf: Buffer): RtpPacketView | null {
  return RtpPacketView.of(buf);
}
