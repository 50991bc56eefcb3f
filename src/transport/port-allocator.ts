/**
 * UDP port pairs for RTP/RTCP. RFC 3550 §11: RTP on an even port, RTCP on the next (odd)
 * one; which ranges are allowed is rtp/port-range's rule, the same the editor checks. Many
 * cameras in one process (and other programs) compete for ports, so a pair is bound
 * atomically from a configurable range, starting at a random even offset and moving on when
 * either port is taken (EADDRINUSE); exhaustion is a clear error (fixed base ports collide
 * once many cameras run).
 */
import * as dgram from 'node:dgram';
import { CameraError } from '../errors';
import { portRangeProblem } from '../rtp/port-range';

export interface UdpPair {
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
  rtpPort: number;
  rtcpPort: number;
  /** receive buffer size the OS actually granted (Linux caps at net.core.rmem_max) */
  recvBufferSize: number;
  close(): void;
}

export interface AllocateOptions {
  /** inclusive range, as rtp/port-range allows: an even first port ≥ 1024, room for a pair */
  range: [number, number];
  family?: 'udp4' | 'udp6' | undefined;
  /** address to bind, default all interfaces */
  bindAddress?: string | undefined;
  /** requested SO_RCVBUF, default 2 MiB */
  recvBufferSize?: number | undefined;
  /** bound on bind attempts, default 64 */
  maxAttempts?: number | undefined;
  random?: (() => number) | undefined;
}

export const DEFAULT_RECV_BUFFER = 2 * 1024 * 1024;

function bindSocket(sock: dgram.Socket, port: number, address: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => { sock.removeListener('listening', onListening); reject(err); };
    const onListening = (): void => { sock.removeListener('error', onError); resolve(); };
    sock.once('error', onError);
    sock.once('listening', onListening);
    sock.bind({ port, address, exclusive: true });
  });
}

function safeClose(sock: dgram.Socket): void {
  try { sock.close(); } catch { /* already closed */ }
}

/** Grow the receive buffer; returns what the OS granted (0 when it cannot be read). */
export function enlargeRecvBuffer(sock: dgram.Socket, bytes: number): number {
  try { sock.setRecvBufferSize(bytes); } catch { /* capped or refused: report what we have */ }
  try { return sock.getRecvBufferSize(); } catch { return 0; }
}

export async function allocateUdpPair(opts: AllocateOptions): Promise<UdpPair> {
  const [lo, hi] = opts.range;
  const problem = portRangeProblem(opts.range);
  if (problem) throw new CameraError('unsupported transport', `invalid UDP port range ${lo}-${hi}: ${problem}`);
  const pairs = Math.floor((hi - lo + 1) / 2);
  const random = opts.random ?? Math.random;
  const start = Math.floor(random() * pairs);
  const attempts = Math.min(pairs, opts.maxAttempts ?? 64);
  const family = opts.family ?? 'udp4';
  for (let i = 0; i < attempts; i++) {
    const rtpPort = lo + 2 * ((start + i) % pairs);
    const rtp = dgram.createSocket({ type: family });
    const rtcp = dgram.createSocket({ type: family });
    try {
      await bindSocket(rtp, rtpPort, opts.bindAddress);
      await bindSocket(rtcp, rtpPort + 1, opts.bindAddress);
    } catch (err) {
      safeClose(rtp);
      safeClose(rtcp);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES') continue;
      throw new CameraError('unsupported transport', `cannot bind UDP port ${rtpPort}: ${code ?? String(err)}`);
    }
    const granted = enlargeRecvBuffer(rtp, opts.recvBufferSize ?? DEFAULT_RECV_BUFFER);
    enlargeRecvBuffer(rtcp, 64 * 1024);
    let closed = false;
    return {
      rtp, rtcp, rtpPort, rtcpPort: rtpPort + 1, recvBufferSize: granted,
      close(): void {
        if (closed) return;
        closed = true;
        safeClose(rtp);
        safeClose(rtcp);
      },
    };
  }
  throw new CameraError('unsupported transport', `no free UDP port pair in ${lo}-${hi} after ${attempts} attempts`);
}
