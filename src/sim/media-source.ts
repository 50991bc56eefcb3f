/**
 * The demo camera's shared media: ONE video source (test pattern → JPEG encoder → RFC 2435
 * packetizer, or pre-packetized replay frames) and an optional PCMU tone, feeding every
 * session like a real camera does (same SSRC, sequence numbers and timestamps for all).
 *
 * RTP timestamps follow a single clock mapping (wall ms ↔ RTP units) that the RTCP sender
 * reports also use, so a receiver's RTCP clock mapping gives back the capture wall time
 * that the pattern draws as text.
 */
import { randomInt } from 'node:crypto';
import { JpegPacketizer } from '../jpeg/packetizer';
import { JpegEncoder } from '../jpeg/encoder';
import { TestPattern } from './test-pattern';
import { Scene, type SceneOptions } from './scene';

/** Monotonic wall clock in ms since the epoch (immune to system clock steps while running). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export function randomSsrc(): number {
  return randomInt(1, 0xffffffff) >>> 0;
}

/** Counters an RTCP sender report needs (RFC 3550 §6.4.1), per SSRC. */
export interface SenderCounters {
  ssrc: number;
  packetCount: number;
  octetCount: number;
}

/** Maps wall time to an RTP timestamp: base + (t − t0)·rate (RFC 3550 §5.1: random base). */
class RtpClock {
  private readonly t0: number;
  private readonly base: number;
  constructor(private readonly rate: number) {
    this.t0 = wallClockMs();
    this.base = randomInt(0, 0xffffffff);
  }
  at(wallMs: number): number {
    return (this.base + Math.floor(((wallMs - this.t0) * this.rate) / 1000)) >>> 0;
  }
}

export interface VideoEncodeSettings {
  /** RFC 2435 Q on the wire: 255 (default, in-band tables), 128..254, or 1..99 (no tables) */
  q: number;
  restartMarkers: boolean;
  zeroDimensions: boolean;
}

export class VideoSource {
  readonly width: number;
  readonly height: number;
  readonly clockRate = 90000;
  readonly counters: SenderCounters;
  /** frames produced so far (the number drawn on the pattern) */
  frameIndex = 0;
  private readonly clock = new RtpClock(90000);
  private packetizer: JpegPacketizer;
  private readonly mtu: number;
  private readonly replay: Buffer[][] | undefined;
  private readonly scene: SceneOptions | undefined;
  private encoder: JpegEncoder | null = null;
  private pattern: TestPattern | null = null;
  private planes: ReturnType<JpegEncoder['allocPlanes']> | null = null;
  private encoderKey = '';

  constructor(opts: { width: number; height: number; mtu?: number | undefined; replay?: Buffer[][] | undefined; scene?: boolean | SceneOptions | undefined }) {
    this.width = opts.width;
    this.height = opts.height;
    this.mtu = opts.mtu ?? 1400;
    this.replay = opts.replay && opts.replay.length > 0 ? opts.replay : undefined;
    this.scene = opts.scene === true ? {} : opts.scene || undefined;
    this.counters = { ssrc: randomSsrc(), packetCount: 0, octetCount: 0 };
    this.packetizer = new JpegPacketizer({ ssrc: this.counters.ssrc, mtu: this.mtu });
  }

  get ssrc(): number {
    return this.counters.ssrc;
  }

  get nextSequence(): number {
    return this.packetizer.nextSequence;
  }

  rtpTimeAt(wallMs: number): number {
    return this.clock.at(wallMs);
  }

  /** New random SSRC; sequence numbers continue; SR counters restart (they are per SSRC). */
  changeSsrc(): void {
    const seq = this.packetizer.nextSequence;
    this.counters.ssrc = randomSsrc();
    this.counters.packetCount = 0;
    this.counters.octetCount = 0;
    this.packetizer = new JpegPacketizer({ ssrc: this.counters.ssrc, mtu: this.mtu, initialSequence: seq });
  }

  /** Packets of the next frame, captured at `wallMs`. */
  nextFrame(wallMs: number, settings: VideoEncodeSettings): Buffer[] {
    const ts = this.clock.at(wallMs);
    const index = this.frameIndex++;
    if (this.replay) return this.replayFrame(index, ts);
    this.ensureEncoder(settings);
    this.pattern!.render(this.planes!, index, wallMs);
    const jpeg = this.encoder!.encode(this.planes!);
    const q = settings.q >= 1 && settings.q <= 99 ? settings.q : settings.q >= 128 && settings.q <= 255 ? settings.q : 255;
    return this.packetizer.packetize(jpeg, ts, { q, zeroDimensions: settings.zeroDimensions });
  }

  /** Count what was actually put on the wire (once per packet, not per receiver). */
  countSent(pkt: Buffer): void {
    this.counters.packetCount++;
    this.counters.octetCount += pkt.length - 12;
  }

  private ensureEncoder(s: VideoEncodeSettings): void {
    const tablesQ = s.q >= 1 && s.q <= 99 ? s.q : 0;
    const key = `${tablesQ}/${s.restartMarkers}`;
    if (this.encoder && key === this.encoderKey) return;
    this.encoderKey = key;
    this.encoder = new JpegEncoder({
      width: this.width,
      height: this.height,
      subsampling: '420',
      ...(tablesQ ? { q: tablesQ } : { quality: 85 }),
      // Like GStreamer's --dri mode: one restart interval per MCU row.
      restartInterval: s.restartMarkers ? Math.ceil(this.width / 16) : 0,
    });
    if (!this.planes || !this.pattern) {
      this.planes = this.encoder.allocPlanes();
      const scene = this.scene ? new Scene(this.width, this.height, this.scene) : undefined;
      this.pattern = new TestPattern(this.width, this.height, this.planes, scene);
    }
  }

  /**
   * Replay mode (benchmarks): loop pre-packetized frames, rewriting sequence number,
   * timestamp and SSRC in place so the stream stays continuous across loops.
   */
  private replayFrame(index: number, ts: number): Buffer[] {
    const frame = this.replay![index % this.replay!.length]!;
    const out: Buffer[] = [];
    for (const pkt of frame) {
      if (pkt.length < 12) continue;
      pkt.writeUInt16BE(this.packetizer.nextSequence, 2);
      pkt.writeUInt32BE(ts, 4);
      pkt.writeUInt32BE(this.counters.ssrc, 8);
      this.packetizer.nextSequence = (this.packetizer.nextSequence + 1) & 0xffff;
      out.push(pkt);
    }
    return out;
  }
}

/** G.711 µ-law encoding of one 16-bit linear sample (ITU-T G.711, segment/mantissa form). */
export function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** PCMU 8 kHz, 1024 samples (128 ms) per packet, payload type 0 — as GStreamer's rtppcmupay sends. */
export class AudioSource {
  static readonly SAMPLES_PER_PACKET = 1024;
  static readonly PACKET_MS = 128;
  readonly clockRate = 8000;
  readonly counters: SenderCounters;
  private readonly clock = new RtpClock(8000);
  private seq = randomInt(0, 65536);
  private readonly payload: Buffer;

  constructor() {
    this.counters = { ssrc: randomSsrc(), packetCount: 0, octetCount: 0 };
    // 1 kHz tone: exactly 128 periods per packet, so one precomputed payload repeats seamlessly.
    this.payload = Buffer.alloc(AudioSource.SAMPLES_PER_PACKET);
    for (let i = 0; i < this.payload.length; i++) this.payload[i] = linearToUlaw(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
  }

  get ssrc(): number {
    return this.counters.ssrc;
  }

  get nextSequence(): number {
    return this.seq;
  }

  rtpTimeAt(wallMs: number): number {
    return this.clock.at(wallMs);
  }

  nextPacket(wallMs: number): Buffer {
    const pkt = Buffer.allocUnsafe(12 + this.payload.length);
    pkt[0] = 0x80;
    pkt[1] = 0; // PT 0 (PCMU), no marker
    pkt.writeUInt16BE(this.seq, 2);
    pkt.writeUInt32BE(this.clock.at(wallMs), 4);
    pkt.writeUInt32BE(this.counters.ssrc, 8);
    this.payload.copy(pkt, 12);
    this.seq = (this.seq + 1) & 0xffff;
    return pkt;
  }

  countSent(pkt: Buffer): void {
    this.counters.packetCount++;
    this.counters.octetCount += pkt.length - 12;
  }
}
