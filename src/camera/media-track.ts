/**
 * One set-up track's receive pipeline: RTP view → sequencer (order, loss, duplicates) →
 * RFC 2435 depacketizer (video) → complete JPEG; RTCP in (SR for the clock mapping and DLSR,
 * BYE as end of source) and our RR + SDES out on the RFC 3550 A.7 schedule.
 *
 * Hot path (onRtp): no object per packet (one RTP view re-filled for every packet; the
 * sequencer retains a copy only of packets it holds), no logging, no timers, no clock read
 * (the transport passes the arrival time of its socket read); payload bytes are copied once,
 * by the depacketizer, into the frame.
 */
import { RtpPacketView, type RtpPacket } from '../rtp/packet';
import { RtpSequencer } from '../rtp/sequencer';
import { JpegDepacketizer, type JpegFrame } from '../jpeg/depacketizer';
import { parseRtcpCompound } from '../rtcp/packet';
import { buildReceiverReportCompound } from '../rtcp/build';
import { ReceiverStats } from '../rtcp/receiver-stats';
import { rtcpIntervalMs, updateAvgRtcpSize } from '../rtcp/interval';
import { ClockMapping, ntpToMs } from '../rtcp/clock-mapping';
import type { TrackSink } from '../transport/interleaved';
import type { SenderReportInfo, TrackInfo } from './types';

export interface MediaTrackOptions {
  info: TrackInfo;
  /** decode JPEG (the video track); audio tracks only keep statistics */
  video: boolean;
  width?: number | undefined;
  height?: number | undefined;
  maxFrameBytes?: number | undefined;
  /** our SSRC and CNAME for RR/SDES */
  ssrc: number;
  cname: string;
  /** monotonic ms */
  now: () => number;
  onFrame?: ((frame: JpegFrame, receivedAt: number, capturedAt: number | null) => void) | undefined;
  /** RTCP BYE from the sender (RFC 3550 §6.6): end of this source */
  onBye?: ((reason: string | null) => void) | undefined;
  random?: (() => number) | undefined;
}

export class MediaTrack implements TrackSink {
  readonly info: TrackInfo;
  private readonly opts: MediaTrackOptions;
  private readonly sequencer: RtpSequencer;
  readonly depacketizer: JpegDepacketizer | null;
  private readonly clock: ClockMapping;
  /** re-filled for every RTP packet */
  private readonly view = new RtpPacketView();
  private stats: ReceiverStats | null = null;
  private rtcpSend: ((packet: Buffer) => void) | null = null;
  private rrTimer: NodeJS.Timeout | null = null;
  private avgRtcpSize = 128;
  private firstRr = true;
  private closed = false;

  /** RTP packets of this track's payload type */
  packets = 0;
  /** RTP bytes, headers included */
  bytes = 0;
  invalidRtp = 0;
  otherPayloadType = 0;
  rtcpPackets = 0;
  rtcpErrors = 0;
  /** monotonic ms of the last RTP packet (a double from the start: no field representation change) */
  private arrival = -0.5;
  senderReport: SenderReportInfo | null = null;
  byeReceived = false;

  constructor(opts: MediaTrackOptions) {
    this.opts = opts;
    this.info = opts.info;
    this.clock = new ClockMapping(opts.info.clockRate);
    this.depacketizer = opts.video
      ? new JpegDepacketizer({ width: opts.width, height: opts.height, maxFrameBytes: opts.maxFrameBytes })
      : null;
    if (this.depacketizer && opts.info.width && opts.info.height) this.depacketizer.setDimensions(opts.info.width, opts.info.height);
    this.sequencer = new RtpSequencer((pkt, extSeq) => this.delivered(pkt, extSeq), {});
  }

  /** monotonic ms of the last RTP packet, null before the first */
  get lastRtpAt(): number | null {
    return this.packets > 0 ? this.arrival : null;
  }

  get ssrc(): number | null {
    return this.stats ? this.stats.ssrc : null;
  }

  get sequencerStats(): RtpSequencer['stats'] {
    return this.sequencer.stats;
  }

  reception(): ReturnType<ReceiverStats['snapshot']> | null {
    return this.stats ? this.stats.snapshot() : null;
  }

  /**
   * The RTP packet `data[start, end)` (whole Buffer by default). `arrivalMs`: monotonic
   * arrival time from the transport; read from `now` when absent.
   */
  onRtp(data: Buffer, arrivalMs?: number, start = 0, end = data.length): void {
    const pkt = this.view;
    if (!pkt.parse(data, start, end)) { this.invalidRtp++; return; }
    if (pkt.payloadType !== this.info.payloadType) { this.otherPayloadType++; return; }
    const now = arrivalMs ?? this.opts.now();
    this.packets++;
    this.bytes += end - start;
    this.arrival = now;
    this.sequencer.push(pkt, now);
  }

  private delivered(pkt: RtpPacket, extSeq: number): void {
    let st = this.stats;
    if (st === null || st.ssrc !== pkt.ssrc) {
      st = new ReceiverStats(pkt.ssrc, this.info.clockRate);
      this.stats = st;
    }
    // Packets released by flush() (tick) got their arrival time when they were pushed; the
    // jitter estimate (A.8) uses the latest arrival, as before.
    st.onRtp(extSeq, pkt.timestamp, this.arrival);
    const d = this.depacketizer;
    if (d === null) return;
    const frame = d.pushPacket(pkt);
    // The depacketizer already gives every frame its own exact-size memory (never a pool slice).
    if (frame !== null && this.opts.onFrame) {
      this.opts.onFrame(frame, Date.now(), this.clock.toWallClockMs(frame.ssrc, frame.rtpTimestamp));
    }
  }

  /** Releases packets held for reordering longer than the sequencer's window. */
  flush(): void {
    this.sequencer.flush(this.opts.now());
  }

  onRtcp(packet: Buffer): void {
    this.rtcpPackets++;
    const { packets, error } = parseRtcpCompound(packet);
    if (error !== null) this.rtcpErrors++;
    for (const p of packets) {
      if (p.type === 'SR') {
        this.clock.onSenderReport(p.ssrc, p.ntpSeconds, p.ntpFraction, p.rtpTimestamp);
        if (this.stats && this.stats.ssrc === p.ssrc) this.stats.onSenderReport(p, this.opts.now());
        this.senderReport = {
          ssrc: p.ssrc, ntpTime: ntpToMs(p.ntpSeconds, p.ntpFraction), rtpTimestamp: p.rtpTimestamp,
          packetCount: p.packetCount, octetCount: p.octetCount, receivedAt: Date.now(),
        };
      } else if (p.type === 'BYE') {
        // Only a BYE of the source we receive (or before any RTP) ends the stream.
        const cur = this.ssrc;
        if (cur === null || p.ssrcs.includes(cur)) {
          this.byeReceived = true;
          this.opts.onBye?.(p.reason);
        }
      }
    }
  }

  /** Start sending RR+SDES through `send` on the A.7 schedule (first one after the halved minimum). */
  startRtcp(send: (packet: Buffer) => void): void {
    this.rtcpSend = send;
    this.scheduleRr();
  }

  private scheduleRr(): void {
    if (this.closed || this.rtcpSend === null) return;
    const ms = rtcpIntervalMs({
      members: 2, senders: 1, weSent: false, initial: this.firstRr, avgRtcpSize: this.avgRtcpSize,
      // 5 % of a nominal 1 Mbit/s session: MJPEG is far above it, so the 5 s minimum applies (A.7).
      rtcpBandwidthBytesPerSec: 6250,
    }, this.opts.random ?? Math.random);
    this.firstRr = false;
    this.rrTimer = setTimeout(() => { this.rrTimer = null; this.sendRr(); this.scheduleRr(); }, ms);
    this.rrTimer.unref();
  }

  /** Builds and sends one RR+SDES compound now (also used for the hole punch). */
  sendRr(): void {
    const send = this.rtcpSend;
    if (send === null || this.closed) return;
    const blocks = this.stats ? [this.stats.reportBlock(this.opts.now())] : [];
    const compound = buildReceiverReportCompound({ ssrc: this.opts.ssrc, cname: this.opts.cname, blocks });
    this.avgRtcpSize = updateAvgRtcpSize(this.avgRtcpSize, compound.length);
    send(compound);
  }

  close(): void {
    this.closed = true;
    if (this.rrTimer) clearTimeout(this.rrTimer);
    this.rrTimer = null;
    this.rtcpSend = null;
  }
}
