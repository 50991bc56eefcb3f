/**
 * RTP/RTCP interleaved on the RTSP connection (RFC 2326 §10.12): `$`, channel, 16-bit length.
 * Channels are the ones the server put in its Transport reply (they may differ from what we
 * asked for); RTCP travels on the odd channel of each pair in both directions. Data on a
 * channel nobody set up, or before PLAY was sent, is counted and dropped: some cameras send
 * RTP before the PLAY reply, and stale sessions of some servers keep writing on old channels.
 */

/**
 * Where one track's packets go. An RTP packet is `data[start, end)` (the whole Buffer when
 * the bounds are left out) of read memory that is never reused, so it may be kept.
 * `arrivalMs` (monotonic) is read once per socket read, not per packet.
 */
export interface TrackSink {
  onRtp(data: Buffer, arrivalMs: number, start?: number, end?: number): void;
  onRtcp(packet: Buffer): void;
}

export class InterleavedTransport {
  private readonly sinks: (TrackSink | undefined)[] = new Array<TrackSink | undefined>(256);
  private readonly rtcpChannel = new Uint8Array(256);
  /** set when PLAY has been sent; earlier data is ignored */
  enabled = false;
  /** frames on channels never set up, or before PLAY */
  ignoredFrames = 0;

  /** `send` writes one `$` frame on the RTSP connection (RtspConnection.sendInterleaved). */
  constructor(private readonly send: (channel: number, payload: Buffer) => void) {}

  bind(rtpChannel: number, rtcpChannel: number, sink: TrackSink): void {
    this.sinks[rtpChannel & 0xff] = sink;
    this.rtcpChannel[rtpChannel & 0xff] = 0;
    if (rtcpChannel >= 0 && rtcpChannel <= 255 && rtcpChannel !== rtpChannel) {
      this.sinks[rtcpChannel] = sink;
      this.rtcpChannel[rtcpChannel] = 1;
    }
  }

  /**
   * RtspConnection's onInterleaved goes here (hot path: no allocation). `arrivalMs` is the
   * monotonic time of the socket read the frame came in.
   */
  dispatch(channel: number, data: Buffer, start: number, end: number, arrivalMs: number): void {
    const sink = this.sinks[channel];
    if (sink === undefined || !this.enabled) {
      this.ignoredFrames++;
      return;
    }
    if (this.rtcpChannel[channel] === 1) sink.onRtcp(data.subarray(start, end));
    else sink.onRtp(data, arrivalMs, start, end);
  }

  /** A function sending RTCP on the given channel of this connection. */
  rtcpSender(channel: number): (packet: Buffer) => void {
    return (packet) => this.send(channel, packet);
  }
}
