/**
 * Minimal classic-pcap reader for the loopback captures in test/fixtures/vectors.
 * Ethernet (linktype 1) or Linux cooked (113) or raw IPv4 (101) → IPv4 → UDP or TCP.
 * TCP payloads are reassembled per direction in capture order (loopback captures have no
 * loss), and RTSP interleaved frames (`$`, channel, 16-bit length) are extracted from the
 * byte stream while RTSP text is skipped.
 */
import { readFileSync } from 'node:fs';

export interface CapturedDatagram {
  /** seconds since epoch (pcap timestamp) */
  time: number;
  proto: 'udp' | 'tcp';
  src: string; // "ip:port"
  dst: string;
  payload: Buffer;
}

export interface InterleavedFrame {
  time: number;
  /** direction "src>dst" of the TCP stream it came from */
  flow: string;
  channel: number;
  payload: Buffer;
}

export function readPcap(file: string): CapturedDatagram[] {
  const buf = readFileSync(file);
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  let nano = false;
  if (magic === 0xa1b2c3d4) le = true;
  else if (magic === 0xd4c3b2a1) le = false;
  else if (magic === 0xa1b23c4d) { le = true; nano = true; }
  else if (magic === 0x4d3cb2a1) { le = false; nano = true; }
  else throw new Error(`${file}: not a classic pcap file`);
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20);
  const out: CapturedDatagram[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    off += 16;
    const frame = buf.subarray(off, off + incl);
    off += incl;
    const time = sec + frac / (nano ? 1e9 : 1e6);
    let ip: Buffer;
    if (linktype === 1) {
      if (frame.readUInt16BE(12) !== 0x0800) continue;
      ip = frame.subarray(14);
    } else if (linktype === 113) {
      if (frame.readUInt16BE(14) !== 0x0800) continue;
      ip = frame.subarray(16);
    } else if (linktype === 101 || linktype === 228) {
      ip = frame;
    } else throw new Error(`${file}: unsupported linktype ${linktype}`);
    if (ip.length < 20 || ip[0]! >> 4 !== 4) continue;
    const ihl = (ip[0]! & 15) * 4;
    const total = ip.readUInt16BE(2);
    const proto = ip[9];
    const srcIp = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
    const dstIp = `${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]}`;
    const l4 = ip.subarray(ihl, total);
    if (proto === 17) {
      out.push({
        time, proto: 'udp',
        src: `${srcIp}:${l4.readUInt16BE(0)}`, dst: `${dstIp}:${l4.readUInt16BE(2)}`,
        payload: Buffer.from(l4.subarray(8, l4.readUInt16BE(4))),
      });
    } else if (proto === 6) {
      const doff = (l4[12]! >> 4) * 4;
      const payload = l4.subarray(doff);
      if (payload.length === 0) continue;
      out.push({
        time, proto: 'tcp',
        src: `${srcIp}:${l4.readUInt16BE(0)}`, dst: `${dstIp}:${l4.readUInt16BE(2)}`,
        payload: Buffer.from(payload),
      });
    }
  }
  return out;
}

/** Concatenated TCP byte streams per direction, keyed "src>dst", with the time of each chunk. */
export function tcpStreams(dgrams: CapturedDatagram[]): Map<string, { data: Buffer; chunks: { at: number; time: number }[] }> {
  const parts = new Map<string, { bufs: Buffer[]; chunks: { at: number; time: number }[]; len: number }>();
  for (const d of dgrams) {
    if (d.proto !== 'tcp') continue;
    const key = `${d.src}>${d.dst}`;
    let p = parts.get(key);
    if (!p) { p = { bufs: [], chunks: [], len: 0 }; parts.set(key, p); }
    p.chunks.push({ at: p.len, time: d.time });
    p.bufs.push(d.payload);
    p.len += d.payload.length;
  }
  const out = new Map<string, { data: Buffer; chunks: { at: number; time: number }[] }>();
  for (const [k, p] of parts) out.set(k, { data: Buffer.concat(p.bufs), chunks: p.chunks });
  return out;
}

/**
 * Interleaved `$` frames from every TCP direction. RTSP messages between frames are skipped
 * by their header block and Content-Length.
 */
export function interleavedFrames(dgrams: CapturedDatagram[]): InterleavedFrame[] {
  const out: InterleavedFrame[] = [];
  for (const [flow, { data, chunks }] of tcpStreams(dgrams)) {
    let ci = 0;
    let i = 0;
    while (i < data.length) {
      while (ci + 1 < chunks.length && chunks[ci + 1]!.at <= i) ci++;
      if (data[i] === 0x24) {
        if (i + 4 > data.length) break;
        const len = data.readUInt16BE(i + 2);
        if (i + 4 + len > data.length) break;
        out.push({ time: chunks[ci]!.time, flow, channel: data[i + 1]!, payload: data.subarray(i + 4, i + 4 + len) });
        i += 4 + len;
        continue;
      }
      const end = data.indexOf('\r\n\r\n', i);
      if (end < 0) break;
      const head = data.subarray(i, end).toString('latin1');
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      i = end + 4 + (m ? Number(m[1]) : 0);
    }
  }
  return out;
}

/** The RTSP text exchanged in a TCP capture, per direction (interleaved frames removed). */
export function rtspText(dgrams: CapturedDatagram[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [flow, { data }] of tcpStreams(dgrams)) {
    let text = '';
    let i = 0;
    while (i < data.length) {
      if (data[i] === 0x24 && i + 4 <= data.length) { i += 4 + data.readUInt16BE(i + 2); continue; }
      const end = data.indexOf('\r\n\r\n', i);
      if (end < 0) { text += data.subarray(i).toString('latin1'); break; }
      const head = data.subarray(i, end).toString('latin1');
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const next = end + 4 + (m ? Number(m[1]) : 0);
      text += data.subarray(i, next).toString('latin1');
      i = next;
    }
    if (text) out.set(flow, text);
  }
  return out;
}

export interface VectorPackets {
  /** RTP packets of the stream's video (payload type 26 or per meta), in capture order */
  rtp: { time: number; packet: Buffer }[];
  /** RTCP packets sent by the server, in capture order */
  rtcp: { time: number; packet: Buffer }[];
}

/**
 * RTP video and server RTCP packets of a vector. UDP: RTP is a datagram whose first byte has
 * version 2 and whose payload type (byte 1 & 0x7f) is `pt`; RTCP is version 2 with packet type
 * 200..204 in byte 1. TCP: interleaved frames with the same tests, from the server direction.
 */
export function vectorPackets(file: string, pt = 26): VectorPackets {
  const d = readPcap(file);
  const rtp: { time: number; packet: Buffer }[] = [];
  const rtcp: { time: number; packet: Buffer }[] = [];
  const classify = (time: number, p: Buffer): void => {
    if (p.length < 8 || p[0]! >> 6 !== 2) return;
    const b1 = p[1]!;
    if (b1 >= 200 && b1 <= 204) { rtcp.push({ time, packet: p }); return; }
    if ((b1 & 0x7f) === pt) rtp.push({ time, packet: p });
  };
  const hasTcp = d.some((x) => x.proto === 'tcp');
  for (const x of d) if (x.proto === 'udp') classify(x.time, x.payload);
  if (hasTcp) for (const f of interleavedFrames(d)) classify(f.time, f.payload);
  return { rtp, rtcp };
}
