/**
 * RFC 2435 receive side: reassembles RTP/JPEG packets into complete JFIF-less JPEG frames.
 *
 * Behaviour (notes/rfc2435-rtcp.md §1.5, §1.9):
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
import { DRI_SEGMENT_LENGTH, JpegHeaderCache, jpegHeaderLength, writeJpegHeader, type JpegHeaderParams } from './header';
import { qTablesForQ } from './tables';
import { countRestartMarkers, guessRestartInterval } from './restart-repair';
import { onvifFrameInfo } from './onvif';

export interface JpegFrame {
  jpeg: Buffer;
  width: number;
  height: number;
  rtpTimestamp: number;
  ssrc: number;
  /** RFC 2435 type without the restart bit: 0 = 4:2:2, 1 = 4:2:0 (notes §1.9 "emit per frame") */
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
   * fragments could otherwise pin millions of them before the byte limit is reached
   * (notes rtsp-client.md §4.5: cap the frame and its fragment count). Counted as oversize.
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

interface QTables {
  luma: Uint8Array;
  chroma: Uint8Array | null;
}

const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;
const DEFAULT_MAX_FRAME_PACKETS = 65536;
/**
 * RST repair cost control: searching a scan for RST0 reads every byte of the frame a second
 * time (as much CPU as the copy itself). Whether an encoder writes restart markers is a
 * property of its configuration, so a stream is checked on every frame until this many
 * consecutive frames of the same configuration (SSRC, size, type, Q) had none ...
 */
const RST_CLEAN_FRAMES = 16;
/** ... and from then on one frame in this many (any RSTn found: back to every frame). */
const RST_SAMPLE_EVERY = 32;
/** a gap of more frames than this is a resync or a sender pause, not a loss: not counted */
const MAX_INFERRED_MISSING = 250;

/**
 * Narrows a 16-bit table to 8-bit when every entry fits (T.81 wants Pq=0 for 8-bit samples).
 * `keep`: the table outlives the packet (Q 128..254 cache), so it must not reference the
 * packet's memory; a Q=255 table lives only as long as its frame, whose packets are held anyway.
 */
function tableFromWire(src: Buffer, sixteen: boolean, keep: boolean): Uint8Array {
  if (!sixteen) return keep ? Uint8Array.from(src.subarray(0, 64)) : src.subarray(0, 64);
  let fits = true;
  for (let i = 0; i < 64; i++) if (src[2 * i] !== 0) { fits = false; break; }
  if (!fits) return Uint8Array.from(src.subarray(0, 128));
  const out = new Uint8Array(64);
  for (let i = 0; i < 64; i++) out[i] = src[2 * i + 1]!;
  return out;
}

export class JpegDepacketizer {
  readonly stats: DepacketizerStats = {
    packets: 0, invalidPackets: 0, framesEmitted: 0, framesDropped: 0, unsupportedType: 0,
    badQ: 0, badTables: 0, oversize: 0, lostFragments: 0, timestampChanges: 0, framesMissing: 0,
    dimensionsMissing: 0, restartRepaired: 0,
  };

  private readonly overrideW: number;
  private readonly overrideH: number;
  private readonly maxFrameBytes: number;
  private readonly maxFramePackets: number;
  private readonly repair: boolean;
  private sdpW = 0;
  private sdpH = 0;
  /** Q 128..254 → tables last received in-band (RFC 2435 §3.1.8 static mapping) */
  private readonly qCache = new Map<number, QTables>();
  /** size from the last ONVIF SOF: "width=height=0 means reuse previous SOF" */
  private onvifW = 0;
  private onvifH = 0;

  // Frame in progress.
  private open = false;
  private fTs = 0;
  private fSsrc = 0;
  private fType: 0 | 1 = 1;
  private fQ = 0;
  private fW = 0;
  private fH = 0;
  /** header of the open frame, built once at its first packet */
  private fParams: JpegHeaderParams | null = null;
  private fBytes = 0;
  private fHeaderBound = 0;
  /** the open frame's scan bytes: fragPackets[i] from fragStarts[i] to fragEnds[i] (exclusive) */
  private readonly fragPackets: Buffer[] = [];
  private readonly fragStarts: number[] = [];
  private readonly fragEnds: number[] = [];
  /** timestamp of the last dropped frame: its remaining packets are skipped quietly */
  private skipping = false;
  private skipTs = 0;
  private skipSsrc = 0;
  /** RST repair sampling: configuration of the last checked frame and its clean-frame run */
  private rstSsrc = -1;
  private rstW = 0;
  private rstH = 0;
  private rstType = -1;
  private rstQ = -1;
  private rstClean = 0;
  private rstSince = 0;
  private readonly headerCache = new JpegHeaderCache();
  /** re-filled by push() for every packet */
  private readonly view = new RtpPacketView();
  // Whole-frame loss inference (see trackLoss).
  private lSsrc = -1;
  private lSeq = -1;
  private lTs = 0;
  private lTsValid = false;
  private lGapPackets = 0;
  private lEmitted = false;
  private lFramePackets = 0;
  private frameStep = 0;
  private minFramePackets = 0;

  constructor(opts: JpegDepacketizerOptions = {}) {
    const w = opts.width ?? 0;
    const h = opts.height ?? 0;
    const ok = Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0 && w <= 0xffff && h <= 0xffff;
    this.overrideW = ok ? w : 0;
    this.overrideH = ok ? h : 0;
    const max = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME;
    this.maxFrameBytes = Number.isFinite(max) && max > 0 ? max : DEFAULT_MAX_FRAME;
    const maxPkts = opts.maxFramePackets ?? DEFAULT_MAX_FRAME_PACKETS;
    this.maxFramePackets = Number.isFinite(maxPkts) && maxPkts >= 1 ? Math.floor(maxPkts) : DEFAULT_MAX_FRAME_PACKETS;
    this.repair = opts.repairRestartMarkers ?? true;
  }

  /** Out-of-band size (SDP), used when packets carry width/height 0. Invalid values clear it. */
  setDimensions(width: number, height: number): void {
    const ok = Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && width <= 0xffff && height <= 0xffff;
    this.sdpW = ok ? width : 0;
    this.sdpH = ok ? height : 0;
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
    this.trackLoss(pkt);
    if (end - start < 8) { this.stats.invalidPackets++; return null; }
    const offset = (data[start + 1]! << 16) | (data[start + 2]! << 8) | data[start + 3]!;
    const type = data[start + 4]!;
    if (offset !== 0) return this.continueFrame(pkt, data, start, end, offset, type);

    // ---- offset 0: a new frame starts (once per frame: a subarray is fine here). An open
    // frame here lost its marker packet.
    const pl = data.subarray(start, end);
    const q = pl[5]!;
    let p = 8;
    if (this.open) this.dropFrame(true);
    this.skipping = false;

    let dri = 0;
    if (type < 128 && (type & 0x40)) {
      // §3.1.7 restart marker header, before any quantization table header.
      if (pl.length < p + 4) return this.rejectStart(pkt, 'invalidPackets');
      dri = pl.readUInt16BE(p);
      if (dri === 0) return this.rejectStart(pkt, 'invalidPackets');
      p += 4;
    }
    if (type >= 128 || (type & 0x3f) > 1) return this.rejectStart(pkt, 'unsupportedType');
    const baseType = (type & 0x3f) as 0 | 1;
    if (q === 0 || (q >= 100 && q <= 127)) return this.rejectStart(pkt, 'badQ');

    let tables: QTables | null;
    if (q < 100) {
      tables = qTablesForQ(q)!; // shared and cached, never mutated
    } else {
      // §3.1.8 quantization table header: MBZ, precision, length, table data.
      if (pl.length < p + 4) return this.rejectStart(pkt, 'invalidPackets');
      const precision = pl[p + 1]!;
      const length = pl.readUInt16BE(p + 2);
      p += 4;
      if (p + length > pl.length) return this.rejectStart(pkt, 'invalidPackets'); // MUST discard
      if (length === 0) {
        tables = q === 255 ? null : (this.qCache.get(q) ?? null); // Q=255 + Length 0 is forbidden
        if (!tables) return this.rejectStart(pkt, 'badTables');
      } else {
        const size0 = precision & 1 ? 128 : 64;
        const size1 = precision & 2 ? 128 : 64;
        if (length < size0) return this.rejectStart(pkt, 'badTables');
        const keep = q < 255;
        const luma = tableFromWire(pl.subarray(p, p + size0), (precision & 1) !== 0, keep);
        // One table (Length 64, FFmpeg default): chroma uses table 0. Extra tables are ignored.
        const chroma = length >= size0 + size1 ? tableFromWire(pl.subarray(p + size0, p + size0 + size1), (precision & 2) !== 0, keep) : null;
        tables = { luma, chroma };
        if (q < 255) this.qCache.set(q, tables);
        p += length;
      }
    }

    let width = pl[6]! * 8;
    let height = pl[7]! * 8;
    let onvifSof = false;
    if (pkt.extensionProfile === 0xffd8 && pkt.extension) {
      const info = onvifFrameInfo(pkt.extension);
      if (info) { this.onvifW = info.width; this.onvifH = info.height; onvifSof = true; }
    }
    if (this.overrideW) {
      width = this.overrideW;
      height = this.overrideH;
    } else if (onvifSof) {
      // ONVIF Streaming "JPEG over RTP": an SOF in the extension takes precedence over the
      // RFC 2435 header (that is how sizes above 2040 are sent).
      width = this.onvifW;
      height = this.onvifH;
    } else if (width === 0 || height === 0) {
      if (this.onvifW) { width = this.onvifW; height = this.onvifH; }
      else if (this.sdpW) { width = this.sdpW; height = this.sdpH; }
      else return this.rejectStart(pkt, 'dimensionsMissing');
    }

    this.open = true;
    this.fTs = pkt.timestamp;
    this.fSsrc = pkt.ssrc;
    this.fType = baseType;
    this.fQ = q;
    this.fW = width;
    this.fH = height;
    this.fParams = { type: baseType, width, height, luma: tables.luma, chroma: tables.chroma, restartInterval: dri };
    this.fBytes = 0;
    // Room for a DRI the restart repair may add.
    this.fHeaderBound = jpegHeaderLength(this.fParams) + (dri ? 0 : DRI_SEGMENT_LENGTH);
    return this.append(pkt, data, start + p, end);
  }

  private continueFrame(pkt: RtpPacket, data: Buffer, start: number, end: number, offset: number, type: number): JpegFrame | null {
    if (!this.open) {
      // Rest of a frame already dropped, or a frame whose first packet we never saw.
      if (!(this.skipping && this.skipTs === pkt.timestamp && this.skipSsrc === pkt.ssrc)) {
        this.stats.lostFragments++;
        this.stats.framesDropped++;
        this.skip(pkt);
      }
      return null;
    }
    if (pkt.ssrc !== this.fSsrc || pkt.timestamp !== this.fTs) {
      if (pkt.ssrc === this.fSsrc) this.stats.timestampChanges++;
      else this.stats.lostFragments++;
      this.dropFrame(false);
      // This packet belongs to another frame whose start we did not see.
      this.skip(pkt);
      return null;
    }
    if (offset !== this.fBytes) {
      this.stats.lostFragments++;
      this.dropFrame(false);
      this.skip(pkt);
      return null;
    }
    let p = start + 8;
    if (type < 128 && (type & 0x40)) {
      if (end - p < 4) { this.stats.invalidPackets++; this.dropFrame(false); this.skip(pkt); return null; }
      p += 4;
    }
    return this.append(pkt, data, p, end);
  }

  /** Scan bytes `data[p, end)` of the open frame. */
  private append(pkt: RtpPacket, data: Buffer, p: number, end: number): JpegFrame | null {
    const n = end - p;
    if (n > 0) {
      this.fBytes += n;
      if (this.fHeaderBound + this.fBytes + 2 > this.maxFrameBytes || this.fragPackets.length >= this.maxFramePackets) {
        this.stats.oversize++;
        this.dropFrame(false);
        this.skip(pkt);
        return null;
      }
      this.fragPackets.push(data);
      this.fragStarts.push(p);
      this.fragEnds.push(end);
    }
    return pkt.marker ? this.finish() : null;
  }

  private finish(): JpegFrame | null {
    const bufs = this.fragPackets;
    const starts = this.fragStarts;
    const ends = this.fragEnds;
    const n = bufs.length;
    if (n === 0) { this.dropFrame(false); return null; }
    // EOI only if the scan does not already end with FF D9 (both bytes checked; the pair may
    // straddle two fragments).
    const lastEnd = ends[n - 1]!;
    const b1 = bufs[n - 1]![lastEnd - 1];
    const b0 = lastEnd - starts[n - 1]! >= 2 ? bufs[n - 1]![lastEnd - 2] : n >= 2 ? bufs[n - 2]![ends[n - 2]! - 1] : undefined;
    const hasEoi = b0 === 0xff && b1 === 0xd9;
    const hp = this.fParams!;
    const header = this.headerCache.get(hp);
    const headerLen = header.length;
    const total = headerLen + this.fBytes + (hasEoi ? 0 : 2);
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
      bufs[i]!.copy(out, o, s0, e0);
      o += e0 - s0;
    }
    if (!hasEoi) { out[o] = 0xff; out[o + 1] = 0xd9; }
    if (hp.restartInterval === 0 && this.repair && this.rstCheckDue()) out = this.repairRestart(out, headerLen);
    const frame: JpegFrame = {
      jpeg: out, width: this.fW, height: this.fH, rtpTimestamp: this.fTs, ssrc: this.fSsrc,
      type: this.fType, q: this.fQ, restartInterval: hp.restartInterval,
    };
    this.stats.framesEmitted++;
    if (frame.rtpTimestamp === this.lTs) {
      this.lEmitted = true;
      if (this.lGapPackets === 0 && (this.minFramePackets === 0 || this.lFramePackets < this.minFramePackets)) this.minFramePackets = this.lFramePackets;
    }
    this.resetFrame();
    // Late duplicates of this frame's packets are ignored quietly.
    this.skipping = true;
    this.skipTs = frame.rtpTimestamp;
    this.skipSsrc = frame.ssrc;
    return frame;
  }

  /**
   * A frame whose every packet was lost leaves no trace in the payload, yet a user counting
   * dropped frames must see it. When the sequence numbers jumped (RFC 3550 §5.1: loss) between
   * two frames, the RTP timestamp step tells how many frames were in between: the nominal
   * step is the smallest positive timestamp difference between an emitted frame and the next
   * frame with no loss between them (so a mid-frame timestamp change, which never emits, cannot
   * shrink it). Without a gap nothing is inferred, so variable-rate senders are not charged.
   * Duplicates are dropped by the sequencer upstream; with push() in arrival order a late
   * packet only looks like a backwards step and is ignored here.
   */
  private trackLoss(pkt: RtpPacket): void {
    const seq = pkt.sequenceNumber;
    const ts = pkt.timestamp >>> 0;
    if (pkt.ssrc !== this.lSsrc) {
      this.lSsrc = pkt.ssrc;
      this.lTsValid = false;
      this.lEmitted = false;
      this.frameStep = 0;
      this.minFramePackets = 0;
      this.lGapPackets = 0;
    } else {
      const jump = (seq - this.lSeq - 1) & 0xffff;
      // a backwards step (late duplicate) is not a loss; forward jumps are packets lost
      if (jump !== 0 && jump < 0x8000) this.lGapPackets += jump;
    }
    this.lSeq = seq;
    if (!this.lTsValid) { this.lTs = ts; this.lTsValid = true; this.lFramePackets = 1; return; }
    if (ts === this.lTs) { this.lFramePackets++; return; }
    const delta = (ts - this.lTs) | 0; // signed 32-bit difference (wrap-safe)
    if (delta > 0) {
      if (this.lGapPackets === 0) {
        if (this.lEmitted && (this.frameStep === 0 || delta < this.frameStep)) this.frameStep = delta;
      } else if (this.frameStep > 0 && this.minFramePackets > 0) {
        // Bounded twice: by the timestamp step, and by the packets actually missing (a frame
        // lost whole took at least minFramePackets with it), so a sender pause next to a
        // lost packet is not charged as frames.
        const byTime = Math.round(delta / this.frameStep) - 1;
        const byPackets = Math.floor(this.lGapPackets / this.minFramePackets);
        const missing = Math.min(byTime, byPackets);
        if (missing > 0 && byTime <= MAX_INFERRED_MISSING) {
          this.stats.framesMissing += missing;
          this.stats.framesDropped += missing;
        }
      }
    }
    this.lTs = ts;
    this.lGapPackets = 0;
    this.lEmitted = false;
    this.lFramePackets = 1;
  }

  /**
   * Type 0/1 frame whose scan holds RSTn markers: rewrap it with a DRI (restart-repair.ts).
   * The scan is searched in the assembled frame (one contiguous native search when there is
   * no RST0, i.e. nearly always); only frames that need the repair pay a second copy.
   */
  private repairRestart(jpeg: Buffer, headerLen: number): Buffer {
    const markers = countRestartMarkers(jpeg, headerLen);
    if (markers === 0) { this.rstClean++; return jpeg; }
    this.rstClean = 0;
    const hp = this.fParams!;
    const dri = guessRestartInterval(hp.width, hp.height, hp.type, markers);
    if (dri === 0) return jpeg;
    hp.restartInterval = dri;
    const fixedHeaderLen = jpegHeaderLength(hp);
    const fixed = Buffer.allocUnsafeSlow(fixedHeaderLen + jpeg.length - headerLen);
    writeJpegHeader(hp, fixed, 0);
    jpeg.copy(fixed, fixedHeaderLen, headerLen);
    this.stats.restartRepaired++;
    return fixed;
  }

  /** Whether this frame's scan is searched for RSTn (see RST_CLEAN_FRAMES). */
  private rstCheckDue(): boolean {
    const hp = this.fParams!;
    if (this.fSsrc !== this.rstSsrc || hp.width !== this.rstW || hp.height !== this.rstH || hp.type !== this.rstType || this.fQ !== this.rstQ) {
      // New source or encoder reconfiguration: check every frame again.
      this.rstSsrc = this.fSsrc;
      this.rstW = hp.width;
      this.rstH = hp.height;
      this.rstType = hp.type;
      this.rstQ = this.fQ;
      this.rstClean = 0;
    }
    if (this.rstClean < RST_CLEAN_FRAMES) return true;
    if (++this.rstSince < RST_SAMPLE_EVERY) return false;
    this.rstSince = 0;
    return true;
  }

  /** A first packet was rejected: count it and skip the rest of its frame quietly. */
  private rejectStart(pkt: RtpPacket, counter: 'invalidPackets' | 'unsupportedType' | 'badQ' | 'badTables' | 'dimensionsMissing'): null {
    this.stats[counter]++;
    this.stats.framesDropped++;
    this.skip(pkt);
    return null;
  }

  private skip(pkt: RtpPacket): void {
    this.skipping = true;
    this.skipTs = pkt.timestamp;
    this.skipSsrc = pkt.ssrc;
  }

  private dropFrame(lostMarker: boolean): void {
    if (lostMarker) this.stats.lostFragments++;
    this.stats.framesDropped++;
    this.resetFrame();
  }

  private resetFrame(): void {
    this.open = false;
    this.fragPackets.length = 0;
    this.fragStarts.length = 0;
    this.fragEnds.length = 0;
    this.fBytes = 0;
    this.fParams = null;
  }
}
