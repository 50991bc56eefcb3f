/**
 * RTP/RTCP over UDP for one track (RFC 3550 §11, RFC 2326 §12.39). Packets are accepted only
 * from the server's address, and from its announced ports when it announced them: anything
 * else on the LAN could otherwise inject images into automations. Before PLAY we send one
 * empty RTP and one RR packet to the server ports so that NAT/firewall state exists for the
 * returning media (NAT drops inbound RTP otherwise).
 */
import * as dgram from 'node:dgram';
import { CameraError } from '../errors';
import { monotonicMs } from './clock';
import { buildReceiverReport } from '../rtcp/build';
import type { TrackSink } from './interleaved';
import { enlargeRecvBuffer, DEFAULT_RECV_BUFFER, type UdpPair } from './port-allocator';

function normAddr(a: string): string {
  return a.replace(/^::ffff:/, '').toLowerCase();
}

export interface UdpTrackOptions {
  pair: UdpPair;
  /** the server's IP (control connection peer, or Transport source= if it is the same) */
  serverAddress: string;
  /** from Transport server_port; null when absent or 0 (then only the address is checked) */
  serverRtpPort: number | null;
  serverRtcpPort: number | null;
  sink: TrackSink;
  /** multicast: the group the pair joined; RTCP then goes to the group */
  multicastGroup?: string | undefined;
}

export class UdpTrackTransport {
  private readonly opts: UdpTrackOptions;
  private readonly server: string;
  private closed = false;
  /** accepted datagrams */
  packets = 0;
  /** datagrams from another source, dropped */
  rejected = 0;

  constructor(opts: UdpTrackOptions) {
    this.opts = opts;
    this.server = normAddr(opts.serverAddress);
    const { pair, sink } = opts;
    // -1: any port (the server announced none); rinfo.port is never -1.
    const rtpPort = opts.serverRtpPort ?? -1;
    const rtcpPort = opts.serverRtcpPort ?? -1;
    // Hot path (one call per datagram): the source address string as dgram reports it is
    // remembered once it has been accepted, so the usual check is one string comparison.
    let okAddress = '';
    const fromServer = (address: string): boolean => {
      if (address === okAddress) return true;
      if (normAddr(address) !== this.server) return false;
      okAddress = address;
      return true;
    };
    pair.rtp.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      if ((rtpPort !== -1 && rinfo.port !== rtpPort) || !fromServer(rinfo.address)) { this.rejected++; return; }
      this.packets++;
      sink.onRtp(msg, monotonicMs());
    });
    pair.rtcp.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      if ((rtcpPort !== -1 && rinfo.port !== rtcpPort) || !fromServer(rinfo.address)) { this.rejected++; return; }
      sink.onRtcp(msg);
    });
    // A socket error must never take the process (Node-RED) down; send errors are transient.
    pair.rtp.on('error', () => undefined);
    pair.rtcp.on('error', () => undefined);
  }

  get recvBufferSize(): number {
    return this.opts.pair.recvBufferSize;
  }

  /** NAT hole punch: an empty RTP header and an empty RR from our two ports. */
  punch(ourSsrc: number): void {
    const rtp = Buffer.alloc(12);
    rtp[0] = 0x80;
    rtp.writeUInt32BE(ourSsrc >>> 0, 8);
    const dest = this.opts.multicastGroup ?? this.opts.serverAddress;
    if (this.opts.serverRtpPort !== null) this.sendFrom(this.opts.pair.rtp, rtp, this.opts.serverRtpPort, dest);
    this.sendRtcp(buildReceiverReport(ourSsrc, []));
  }

  /** RTCP from our RTCP port to the server's RTCP port (or the group's). */
  sendRtcp(packet: Buffer): void {
    const port = this.opts.serverRtcpPort;
    if (port === null) return;
    this.sendFrom(this.opts.pair.rtcp, packet, port, this.opts.multicastGroup ?? this.opts.serverAddress);
  }

  private sendFrom(sock: dgram.Socket, packet: Buffer, port: number, host: string): void {
    if (this.closed) return;
    try { sock.send(packet, port, host); } catch { /* socket closing */ }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.pair.close();
  }
}

function bindShared(type: 'udp4' | 'udp6', port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type, reuseAddr: true });
    s.once('error', (err) => { try { s.close(); } catch { /* */ } reject(err); });
    s.bind(port, () => { s.removeAllListeners('error'); resolve(s); });
  });
}

/**
 * Multicast (RFC 2326 §12.39 destination/port): bind the announced ports (shared, other
 * receivers may be on this host) and join only the announced group.
 */
export async function openMulticastPair(group: string, rtpPort: number, rtcpPort: number, recvBufferSize = DEFAULT_RECV_BUFFER): Promise<UdpPair> {
  const type = group.includes(':') ? 'udp6' : 'udp4';
  let rtp: dgram.Socket | null = null;
  let rtcp: dgram.Socket | null = null;
  try {
    rtp = await bindShared(type, rtpPort);
    rtcp = await bindShared(type, rtcpPort);
    rtp.addMembership(group);
    rtcp.addMembership(group);
  } catch (err) {
    try { rtp?.close(); } catch { /* */ }
    try { rtcp?.close(); } catch { /* */ }
    throw new CameraError('unsupported transport', `cannot join multicast group ${group} port ${rtpPort}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const granted = enlargeRecvBuffer(rtp, recvBufferSize);
  const a = rtp;
  const b = rtcp;
  let closed = false;
  return {
    rtp: a, rtcp: b, rtpPort, rtcpPort, recvBufferSize: granted,
    close(): void {
      if (closed) return;
      closed = true;
      for (const s of [a, b]) {
        try { s.dropMembership(group); } catch { /* */ }
        try { s.close(); } catch { /* */ }
      }
    },
  };
}
