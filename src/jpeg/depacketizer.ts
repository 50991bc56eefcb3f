/**
 * RFC 2435 receive side: reassembles RTP/JPEG packets into complete JFIF-less JPEG frames.
 * The payload headers are read by payload-header.ts, frames lost whole are inferred by
 * frame-loss.ts, RSTn markers without a restart header are repaired by restart-repair.ts.
 *
 * Behaviour:
 * - a frame starts only at fragment offset 0; every later packet must continue exactly at
 *   the bytes received so far, carry the same RTP timestamp and SSRC; any mismatch drops
 *   the whole frame (never a partial JPEG);
 * - a new offset-0 packet while a frame is open means the marker packet was lost: the open
 *   frame is dropped, the new one starts;
 * - payload bytes stay in their packets (a reference and a start offset per packet, no
 *   per-packet object) until the marker, then are copied once into one exact-size Buffer
 *   (header + scan + EOI only if missing);
 * - types 0/1 and 64/65 (restart header in every packet) are supported; other types are
 *   counted and dropped; Q 0 and 100..127 are reserved and dropped;
 * - Q 128..254 tables are cached per Q (Length 0 then reuses them); Q 255 is never cached.
 *
 * Dimensions: the constructor's width/height are a manual override and always win (needed
 * for FFmpeg senders that write the size modulo 2048 when it exceeds 2040). `setDimensions`
 * (SDP a=x-dimensions / a=framesize) is used only when the packet says 0. An ONVIF 0xFFD8
 * extension SOF wins over the packet's size (ONVIF: extension segments take precedence) and is
 * remembered for later frames that say 0.
 */
import { RtpPacketView, type RtpPacket } from '../rtp/packet';
import { DRI_SEGMENT_LENGTH, JpegHeaderCache, jpegHeaderLength, type JpegHeaderParams } from './header';
import { RestartRepair } from './restart-repair';
import { FrameLossCounter } from './frame-loss';
import { fragmentOffset, hasRestartHeader, MAIN_HEADER_LENGTH, payloadType, readFirstPacketHeaders, RESTART_HEADER_LENGTH, type QTables } from './payload-header';
import { onvifFrameInfo } from './onvif';

export interface JpegFrame {
  jpeg: Buffer;
  width: number;
  height: number;
  rtpTimestamp: number;
  ssrc: number;
  /** RFC 2435 type without the restart bit: 0 = 4:2:2, 1 = 4:2:0 (may change from frame to frame) */
  type: 0 | 1;
  /** RFC 2435 Q of the frame (1..99 computed tables, 128..255 in-band or cached) */
  q: number;
  /** restart interval written as DRI, 0 when none (includes one added by the restart repair) */
  restartInterval: number;
}

export interface JpegDepacketizerOptions {
  /** manual size override in pixels (both needed); wins over the packet's size */
  width?: number;
  height?: number;
  /** largest JPEG emitted, bytes (default 16 MiB); bigger frames are dropped and counted */
  maxFrameBytes?: number;
  /**
   * most RTP packets in one frame (default 65536: a 16 MiB frame in 256-byte packets).
   * Each held packet costs a Buffer object, so a sender splitting a frame into 1-byte
   * fragments could otherwise pin millions of them before the byte limit is reached, so
   * both the frame's bytes and its fragment count are capped. Counted as oversize.
   */
  maxFramePackets?: number;
  /**
   * Write a DRI for type 0/1 frames whose scan contains RSTn markers (sender dropped the
   * restart header; see restart-repair.ts). Default true.
   */
  repairRestartMarkers?: boolean;
}

export interface DepacketizerStats {
  packets: number;
  invalidPackets: number;
  framesEmitted: number;
  framesDropped: number;
  unsupportedType: number;
  badQ: number;
  badTables: number;
  oversize: number;
  lostFragments: number;
  timestampChanges: number;
  dimensionsMissing: number;
  /** frames given a DRI by the RST-without-restart-header repair */
  restartRepaired: number;
  /**
   * frames of which not one packet arrived, inferred from the RTP timestamps across a
   * sequence gap (also included in framesDropped)
   */
  framesMissing: number;
}

export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;
const DEFAULT_MAX_FRAME_PACKETS = 65536;

/** The frame being assembled (one object, reused frame after frame). */
interface OpenFrame {
  open: boolean;
  timestamp: number;
  ssrc: number;
  type: 0 | 1;
  q: number;
  width: number;
  height: number;
  /** header of the frame, built once at its first packet */
  params: JpegHeaderParams | null;
  /** scan bytes so far */
  bytes: number;
  /** the header's length, plus room for a DRI the restart repair may add */
  headerBound: number;
  /** the scan: packets[i] from starts[i] to ends[i] (exclusive); no object per packet */
  packets: Buffer[];
  starts: number[];
  ends: number[];
}

export class JpegDepacketizer {
  readonly stats: DepacketizerStats = {
    packets: 0, invalidPackets: 0, framesEmitted: 0, framesDropped: 0, unsupportedType: 0,
    badQ: 0, badTables: 0, oversize: 0, lostFragments: 0, timestampChanges: 0, framesMissing: 0,
    dimensionsMissing: 0, restartRepaired: 0,
  };

  /** manual size override, 0 × 0 when none */
  private readonly override: { width: number; height: number };
  private readonly maxFrameBytes: number;
  private readonly maxFramePackets: number;
  private readonly restart: RestartRepair | null;
  /** out-of-band size from the SDP */
  private sdp = { width: 0, height: 0 };
  /** size from the last ONVIF SOF: "width=height=0 means reuse previous SOF" */
  private onvif = { width: 0, height: 0 };
  /** Q 128..254 → tables last received in-band (RFC 2435 §3.1.8 static mapping) */
  private readonly qCache = new Map<number, QTables>();
  private readonly frame: OpenFrame = {
    open: false, timestamp: 0, ssrc: 0, type: 1, q: 0, width: 0, height: 0, params: null, bytes: 0, headerBound: 0,
    packets: [], starts: [], ends: [],
  };
  /** the last dropped or emitted frame: its remaining (or late duplicate) packets are skipped quietly */
  private readonly skipped = { active: false, timestamp: 0, ssrc: 0 };
  private readonly headerCache = new JpegHeaderCache();
  /** re-filled by push() for every packet */
  private readonly view = new RtpPacketView();
  private readonly loss = new FrameLossCounter();

  constructor(opts: JpegDepacketizerOptions = {}) {
    const w = opts.width ?? 0;
    const h = opts.height ?? 0;
    const ok = Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0 && w <= 0xffff && h <= 0xffff;
    this.override = { width: ok ? w : 0, height: ok ? h : 0 };
    const max = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME;
    this.maxFrameBytes = Number.isFinite(max) && max > 0 ? max : DEFAULT_MAX_FRAME;
    const maxPkts = opts.maxFramePackets ?? DEFAULT_MAX_FRAME_PACKETS;
    this.maxFramePackets = Number.isFinite(maxPkts) && maxPkts >= 1 ? Math.floor(maxPkts) : DEFAULT_MAX_FRAME_PACKETS;
    this.restart = (opts.repairRestartMarkers ?? true) ? new RestartRepair() : null;
  }

  /** Out-of-band size (SDP), used when packets carry width/height 0. Invalid values clear it. */
  setDimensions(width: number, height: number): void {
    const ok = Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && width <= 0xffff && height <= 0xffff;
    this.sdp = { width: ok ? width : 0, height: ok ? height : 0 };
  }

  /** Whole RTP packet, arrival order. Never throws. */
  push(rtpPacket: Buffer): JpegFrame | null {
    const pkt = this.view;
    if (!pkt.parse(rtpPacket, 0, rtpPacket.length)) {
      this.stats.packets++;
      this.stats.invalidPackets++;
      return null;
    }
    return this.pushPacket(pkt);
  }

  /** Already-parsed packet (after the sequencer). Never throws. */
  pushPacket(pkt: RtpPacket): JpegFrame | null {
    // An RtpPacketView: read its payload in place (no subarray per packet).
    if (pkt instanceof RtpPacketView) return this.pushPayload(pkt, pkt.data, pkt.payloadStart, pkt.payloadEnd);
    const pl = pkt.payload;
    return this.pushPayload(pkt, pl, 0, pl.length);
  }

  /** The payload is `data[start, end)`. */
  private pushPayload(pkt: RtpPacket, data: Buffer, start: number, end: number): JpegFrame | null {
    this.stats.packets++;
    const missing = this.loss.onPacket(pkt.ssrc, pkt.sequenceNumber, pkt.timestamp);
    if (missing > 0) {
      this.stats.framesMissing += missing;
      this.stats.framesDropped += missing;
    }
    if (end - start < MAIN_HEADER_LENGTH) { this.stats.invalidPackets++; return null; }
    const offset = fragmentOffset(data, start);
    if (offset !== 0) return this.continueFrame(pkt, data, start, end, offset, payloadType(data, start));
    return this.startFrame(pkt, data, start, end);
  }

  /** Offset 0: a new frame starts (once per frame: a subarray is fine here). An open frame here lost its marker packet. */
  private startFrame(pkt: RtpPacket, data: Buffer, start: number, end: number): JpegFrame | null {
    if (this.frame.open) this.dropFrame(true);
    this.skipped.active = false;
    const pl = data.subarray(start, end);
    const h = readFirstPacketHeaders(pl, this.qCache);
    if (typeof h === 'string') return this.rejectStart(pkt, h);

    let { width, height } = h;
    let onvifSof = false;
    if (pkt.extensionProfile === 0xffd8 && pkt.extension) {
      const info = onvifFrameInfo(pkt.extension);
      if (info) { this.onvif = { width: info.width, height: info.height }; onvifSof = true; }
    }
    if (this.override.width) {
      ({ width, height } = this.override);
    } else if (onvifSof) {
      // ONVIF Streaming "JPEG over RTP": an SOF in the extension takes precedence over the
      // RFC 2435 header (that is how sizes above 2040 are sent).
      ({ width, height } = this.onvif);
    } else if (width === 0 || height === 0) {
      if (this.onvif.width) ({ width, height } = this.onvif);
      else if (this.sdp.width) ({ width, height } = this.sdp);
      else return this.rejectStart(pkt, 'dimensionsMissing');
    }

    const f = this.frame;
    f.open = true;
    f.timestamp = pkt.timestamp;
    f.ssrc = pkt.ssrc;
    f.type = h.type;
    f.q = h.q;
    f.width = width;
    f.height = height;
    f.params = { type: h.type, width, height, luma: h.tables.luma, chroma: h.tables.chroma, restartInterval: h.restartInterval };
    f.bytes = 0;
    // Room for a DRI the restart repair may add.
    f.headerBound = jpegHeaderLength(f.params) + (h.restartInterval ? 0 : DRI_SEGMENT_LENGTH);
    return this.append(pkt, data, start + h.scanStart, end);
  }

  private continueFrame(pkt: RtpPacket, data: Buffer, start: number, end: number, offset: number, type: number): JpegFrame | null {
    const f = this.frame;
    if (!f.open) {
      // Rest of a frame already dropped, or a frame whose first packet we never saw.
      const s = this.skipped;
      if (!(s.active && s.timestamp === pkt.timestamp && s.ssrc === pkt.ssrc)) {
        this.stats.lostFragments++;
        this.stats.framesDropped++;
        this.skip(pkt.timestamp, pkt.ssrc);
      }
      return null;
    }
    if (pkt.ssrc !== f.ssrc || pkt.timestamp !== f.timestamp) {
      if (pkt.ssrc === f.ssrc) this.stats.timestampChanges++;
      else this.stats.lostFragments++;
      this.dropFrame(false);
      // This packet belongs to another frame whose start we did not see.
      this.skip(pkt.timestamp, pkt.ssrc);
      return null;
    }
    if (offset !== f.bytes) {
      this.stats.lostFragments++;
      this.dropFrame(false);
      this.skip(pkt.timestamp, pkt.ssrc);
      return null;
    }
    let p = start + MAIN_HEADER_LENGTH;
    if (hasRestartHeader(type)) {
      if (end - p < RESTART_HEADER_LENGTH) { this.stats.invalidPackets++; this.dropFrame(false); this.skip(pkt.timestamp, pkt.ssrc); return null; }
      p += RESTART_HEADER_LENGTH;
    }
    return this.append(pkt, data, p, end);
  }

  /** Scan bytes `data[p, end)` of the open frame. */
  private append(pkt: RtpPacket, data: Buffer, p: number, end: number): JpegFrame | null {
    const n = end - p;
    if (n > 0) {
      const f = this.frame;
      f.bytes += n;
      if (f.headerBound + f.bytes + 2 > this.maxFrameBytes || f.packets.length >= this.maxFramePackets) {
        this.stats.oversize++;
        this.dropFrame(false);
        this.skip(pkt.timestamp, pkt.ssrc);
        return null;
      }
      f.packets.push(data);
      f.starts.push(p);
      f.ends.push(end);
    }
    return pkt.marker ? this.finish() : null;
  }

  private finish(): JpegFrame | null {
    const f = this.frame;
    const { packets, starts, ends } = f;
    const n = packets.length;
    if (n === 0) { this.dropFrame(false); return null; }
    // EOI only if the scan does not already end with FF D9 (both bytes checked; the pair may
    // straddle two fragments).
    const lastEnd = ends[n - 1]!;
    const b1 = packets[n - 1]![lastEnd - 1];
    const b0 = lastEnd - starts[n - 1]! >= 2 ? packets[n - 1]![lastEnd - 2] : n >= 2 ? packets[n - 2]![ends[n - 2]! - 1] : undefined;
    const hasEoi = b0 === 0xff && b1 === 0xd9;
    const hp = f.params!;
    const header = this.headerCache.get(hp);
    const headerLen = header.length;
    const total = headerLen + f.bytes + (hasEoi ? 0 : 2);
    if (total > this.maxFrameBytes) {
      this.stats.oversize++;
      this.dropFrame(false);
      return null;
    }
    // Own exact-size memory (never a slice of the shared pool, even for small frames), so
    // consumers may keep or transfer the frame without pinning unrelated bytes.
    let out: Buffer = Buffer.allocUnsafeSlow(total);
    header.copy(out, 0);
    let o = headerLen;
    for (let i = 0; i < n; i++) {
      const s0 = starts[i]!;
      const e0 = ends[i]!;
      packets[i]!.copy(out, o, s0, e0);
      o += e0 - s0;
    }
    if (!hasEoi) { out[o] = 0xff; out[o + 1] = 0xd9; }
    if (hp.restartInterval === 0 && this.restart !== null && this.restart.due(f.ssrc, hp, f.q)) {
      const fixed = this.restart.repair(out, headerLen, hp);
      if (fixed !== null) { out = fixed; this.stats.restartRepaired++; }
    }
    const frame: JpegFrame = {
      jpeg: out, width: f.width, height: f.height, rtpTimestamp: f.timestamp, ssrc: f.ssrc,
      type: f.type, q: f.q, restartInterval: hp.restartInterval,
    };
    this.stats.framesEmitted++;
    this.loss.onFrameEmitted(frame.rtpTimestamp);
    this.resetFrame();
    // Late duplicates of this frame's packets are ignored quietly.
    this.skip(frame.rtpTimestamp, frame.ssrc);
    return frame;
  }

  /** A first packet was rejected: count it and skip the rest of its frame quietly. */
  private rejectStart(pkt: RtpPacket, counter: 'invalidPackets' | 'unsupportedType' | 'badQ' | 'badTables' | 'dimensionsMissing'): null {
    this.stats[counter]++;
    this.stats.framesDropped++;
    this.skip(pkt.timestamp, pkt.ssrc);
    return null;
  }

  /** The rest of the frame with this timestamp and SSRC is skipped quietly. */
  private skip(timestamp: number, ssrc: number): void {
    const s = this.skipped;
    s.active = true;
    s.timestamp = timestamp;
    s.ssrc = ssrc;
  }

  private dropFrame(lostMarker: boolean): void {
    if (lostMarker) this.stats.lostFragments++;
    this.stats.framesDropped++;
    this.resetFrame();
  }

  private resetFrame(): void {
    const f = this.frame;
    f.open = false;
    f.packets.length = 0;
    f.starts.length = 0;
    f.ends.length = 0;
    f.bytes = 0;
    f.params = null;
  }
}
