/**
 * One of the two connections of an RTSP-over-HTTP tunnel (open.ts), and how it is
 * opened: over TCP, where reads land in a ReadSlab exactly as on a plain RTSP connection, or
 * over TLS. Its socket listeners call through fields that the tunnel sets per phase.
 */
import * as net from 'node:net';
import { CameraError } from '../../errors';
import type { ReadSlab } from '../read-slab';
import { connectError, connectTls, type TlsPolicy } from '../connect-socket';

/** Bytes the GET may deliver before setReceiver(): a server sends nothing before our first request. */
export const EARLY_LIMIT = 1024 * 1024;

export const noop = (): void => undefined;

/** One of the two connections; its socket listeners call through these fields, set per phase. */
export class Leg {
  socket!: net.Socket;
  sink: (chunk: Buffer) => void = noop;
  onError: (err: NodeJS.ErrnoException) => void = noop;
  onClose: () => void = noop;
  closed = false;

  constructor(readonly name: 'GET' | 'POST') {}

  /** Installs the listeners that live as long as the socket. */
  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('error', (err: NodeJS.ErrnoException) => this.onError(err));
    socket.on('close', () => { this.closed = true; this.onClose(); });
  }

  destroy(): void {
    this.sink = noop;
    this.onError = noop;
    // unset only when net/tls.connect() threw on its options
    (this.socket as net.Socket | undefined)?.destroy();
  }
}

/** Chunks read before anyone takes them, bounded. */
export class EarlyChunks {
  chunks: Buffer[] = [];
  bytes = 0;
  overflow = false;
  push(chunk: Buffer): void {
    if (this.overflow) return;
    this.bytes += chunk.length;
    if (this.bytes > EARLY_LIMIT) { this.overflow = true; this.chunks = []; return; }
    this.chunks.push(chunk);
  }
}

/** Printable, short: a reason phrase is server-controlled text. */
export function preview(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f-\xff]/g, '?');
  return clean.length > 60 ? `${clean.slice(0, 60)}...` : clean;
}

/** Opens one connection (TLS when `secure`); reads go to `leg.sink` (over plain TCP through a ReadSlab). */
export function connectLeg(o: TlsPolicy & { secure?: boolean | undefined }, leg: Leg, slab: ReadSlab | null): Promise<Leg> {
  return new Promise((resolve, reject) => {
    const where = `${o.host}:${o.port}`;
    leg.onError = (err): void => reject(connectError(err, `${where} (tunnel ${leg.name})`));
    leg.onClose = (): void => reject(new CameraError('connection lost', `tunnel ${leg.name} connection to ${where} closed while connecting`));
    if (o.secure) {
      const t = connectTls(o, (problem) => {
        if (problem !== null) { leg.destroy(); reject(new CameraError('tls error', problem)); return; }
        resolve(leg);
      });
      leg.attach(t);
      t.on('data', (chunk: Buffer) => leg.sink(chunk));
    } else {
      const socket = slab === null
        ? net.connect({ host: o.host, port: o.port })
        : net.connect({
          host: o.host,
          port: o.port,
          onread: {
            buffer: () => slab.next(),
            callback: (n: number, region: Uint8Array): boolean => { leg.sink(slab.filled(region as Buffer, n)); return true; },
          },
        });
      leg.attach(socket);
      if (slab === null) socket.on('data', (chunk: Buffer) => leg.sink(chunk));
      socket.once('connect', () => resolve(leg));
    }
  });
}
