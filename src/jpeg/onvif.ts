/**
 * ONVIF "JPEG over RTP" header extension (ONVIF Streaming Specification, "JPEG over RTP"):
 * an RTP header extension with profile 0xFFD8 on the first packet of a frame carries JPEG
 * marker segments (SOF, DQT, DHT, DRI, SOS, ...). ONVIF devices use it for sizes above the
 * 2040-pixel limit of RFC 2435's 8-bit block counts.
 *
 * Only the frame size is taken from it here (what receivers need to go above 2040 pixels); tables keep coming
 * from the RFC 2435 headers. Never throws.
 */

export interface OnvifFrameInfo {
  width: number;
  height: number;
}

/**
 * Scans the extension data (after the 4-byte extension header) for an SOF0/SOF1 segment and
 * returns its size, or null when there is none or it is malformed / zero-sized.
 */
export function onvifFrameInfo(ext: Buffer): OnvifFrameInfo | null {
  let i = 0;
  const n = ext.length;
  while (i + 4 <= n) {
    if (ext[i] !== 0xff) return null;
    const m = ext[i + 1]!;
    if (m === 0xff) { i++; continue; } // 0xFF fill bytes are allowed before markers
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7)) { i += 2; continue; } // standalone markers
    const len = ext.readUInt16BE(i + 2);
    if (len < 2 || i + 2 + len > n) return null;
    if ((m === 0xc0 || m === 0xc1) && len >= 8) {
      const height = ext.readUInt16BE(i + 5);
      const width = ext.readUInt16BE(i + 7);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    if (m === 0xda) return null; // SOS ends the header segments
    i += 2 + len;
  }
  return null;
}
