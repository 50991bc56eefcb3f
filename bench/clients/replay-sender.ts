/**
 * A cheap RTSP "camera" for the many-streams benchmarks: replays a recorded RTP/JPEG stream
 * (RFC 4571 file made by GStreamer) at a fixed frame rate to every playing client, shared
 * media like a real camera (same SSRC/sequence for all). TCP clients get one pre-built
 * interleaved Buffer per frame (one write per client per frame); UDP clients one datagram per
 * packet. No RTCP. Usage: node replay-sender.cjs <file.rtp4571> <fps> [port=0]
 * Prints `READY rtsp://127.0.0.1:PORT/replay`, then on SIGTERM one JSON line of counters.
 * A client whose socket buffers more than 8 MiB skips frames (counted as senderSkipped).
 */
import { createServer, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';

const [file, fpsArg, portArg] = process.argv.slice(2) as [string, string, string | undefined];
const fps = Number(fpsArg) || 25;
const data = readFileSync(file);
const frames: Buffer[][] = [];
{
  let cur: Buffer[] = [];
  for (let off = 0; off + 2 <= data.length;) {
    const len = data.readUInt16BE(off);
    const p = Buffer.from(data.subarray(off + 2, off + 2 + len));
    off += 2 + len;
    cur.push(p);
    if (p[1]! & 0x80) { frames.push(cur); cur = []; }
  }
}
const ssrc = 0x5eed0001;
let seq = 1000;
let frameNo = 0;

interface Client { sock: Socket; udpPort: number; playing: boolean; session: string }
const clients = new Set<Client>();
const udp = createSocket('udp4');
udp.bind(0, '127.0.0.1');
/** B4: CLOCK_MONOTONIC ns (shared by all processes) when each frame's write was issued, by RTP timestamp */
const latencyOut = process.env['BENCH_LATENCY_OUT'];
const sentAt: Record<string, string> = {};
const counters = { framesSent: 0, tcpWrites: 0, udpDatagrams: 0, senderSkipped: 0, clientsMax: 0 };

const sdp = (host: string): string => [
  'v=0', `o=- 1 1 IN IP4 ${host}`, 's=bench replay', 't=0 0', 'a=control:*',
  'm=video 0 RTP/AVP 26', 'c=IN IP4 0.0.0.0', 'a=rtpmap:26 JPEG/90000', `a=framerate:${fps}`, 'a=control:stream=0', '',
].join('\r\n');

let sessionSeq = 0;
const server = createServer((sock) => {
  sock.setNoDelay(true);
  const c: Client = { sock, udpPort: 0, playing: false, session: '' };
  clients.add(c);
  let buf = '';
  sock.on('data', (d) => {
    buf += d.toString('latin1');
    for (;;) {
      if (buf.startsWith('$')) { // interleaved RTCP from the client: skip it
        if (buf.length < 4) return;
        const len = (buf.charCodeAt(2) << 8) | buf.charCodeAt(3);
        if (buf.length < 4 + len) return;
        buf = buf.slice(4 + len);
        continue;
      }
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const clen = Number(/^Content-Length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + clen) return;
      buf = buf.slice(end + 4 + clen);
      handle(c, head);
    }
  });
  const drop = (): void => { clients.delete(c); };
  sock.on('close', drop);
  sock.on('error', drop);
});

function handle(c: Client, head: string): void {
  const [method, uri] = head.split(' ');
  const cseq = /^CSeq:\s*(\d+)/im.exec(head)?.[1] ?? '0';
  const reply = (extra: string[], body = ''): void => {
    const lines = ['RTSP/1.0 200 OK', `CSeq: ${cseq}`, ...extra];
    if (body) lines.push('Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(body)}`);
    c.sock.write(lines.join('\r\n') + '\r\n\r\n' + body);
  };
  switch (method) {
    case 'OPTIONS': reply(['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER']); break;
    case 'DESCRIBE': reply([`Content-Base: ${uri!.replace(/\/?$/, '/')}`], sdp('127.0.0.1')); break;
    case 'SETUP': {
      const t = /^Transport:\s*(.*)$/im.exec(head)?.[1] ?? '';
      c.session = (++sessionSeq).toString(16).padStart(8, '0');
      const cp = /client_port=(\d+)/.exec(t);
      if (cp && !/TCP/i.test(t)) {
        c.udpPort = Number(cp[1]);
        reply([`Transport: RTP/AVP;unicast;client_port=${cp[1]}-${Number(cp[1]) + 1};server_port=${udp.address().port}-${udp.address().port + 1};ssrc=${ssrc.toString(16)}`, `Session: ${c.session}`]);
      } else {
        reply([`Transport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=${ssrc.toString(16)}`, `Session: ${c.session}`]);
      }
      break;
    }
    case 'PLAY': c.playing = true; counters.clientsMax = Math.max(counters.clientsMax, [...clients].filter((x) => x.playing).length);
      reply([`Session: ${c.session}`, 'Range: npt=now-', `RTP-Info: url=${uri}/stream=0;seq=${seq & 0xffff};rtptime=${(frameNo * 3600) >>> 0}`]); break;
    case 'TEARDOWN': c.playing = false; reply([`Session: ${c.session}`]); break;
    default: reply(c.session ? [`Session: ${c.session}`] : []);
  }
}

function tick(): void {
  const pkts = frames[frameNo % frames.length]!;
  const ts = (frameNo * 3600) >>> 0; // 90 kHz / 25 fps
  frameNo++;
  let tcpBuf: Buffer | null = null;
  for (const c of clients) {
    if (!c.playing) continue;
    if (tcpBuf === null) {
      let total = 0;
      for (const p of pkts) { p.writeUInt16BE(seq++ & 0xffff, 2); p.writeUInt32BE(ts, 4); p.writeUInt32BE(ssrc, 8); total += 4 + p.length; }
      tcpBuf = Buffer.allocUnsafe(total);
      let o = 0;
      for (const p of pkts) { tcpBuf[o] = 0x24; tcpBuf[o + 1] = 0; tcpBuf.writeUInt16BE(p.length, o + 2); p.copy(tcpBuf, o + 4); o += 4 + p.length; }
      counters.framesSent++;
    }
    if (c.udpPort) {
      for (const p of pkts) udp.send(p, c.udpPort, '127.0.0.1');
      if (latencyOut && !(ts in sentAt)) sentAt[ts] = process.hrtime.bigint().toString();
      counters.udpDatagrams += pkts.length;
    } else if (c.sock.writableLength > 8 << 20) {
      counters.senderSkipped++;
    } else {
      c.sock.write(tcpBuf);
      counters.tcpWrites++;
      if (latencyOut && !(ts in sentAt)) sentAt[ts] = process.hrtime.bigint().toString();
    }
  }
}

server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`READY rtsp://127.0.0.1:${port}/replay frames=${frames.length} fps=${fps}\n`);
  // Drift-free schedule: frame k goes out at t0 + k/fps.
  const t0 = performance.now();
  const period = 1000 / fps;
  let k = 0;
  const loop = (): void => {
    tick();
    k++;
    setTimeout(loop, Math.max(0, t0 + k * period - performance.now()));
  };
  setTimeout(loop, period);
});

process.on('SIGTERM', () => {
  if (latencyOut) writeFileSync(latencyOut, JSON.stringify(sentAt));
  process.stdout.write(JSON.stringify(counters) + '\n');
  process.exit(0);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
