/**
 * The floor: the least a Node RTSP client can do. DESCRIBE, SETUP, PLAY by hand, then only
 * count the bytes that arrive (interleaved on the TCP connection, or on two dgram sockets for
 * UDP). No RTP parsing, no JPEG. Usage: node minimal-reader.cjs <url> <tcp|udp>
 * On SIGTERM prints one JSON line {"bytes":N} and exits.
 */
import { connect } from 'node:net';
import { createSocket, type Socket as Dgram } from 'node:dgram';

const url = process.argv[2]!;
const transport = process.argv[3] === 'udp' ? 'udp' : 'tcp';
const u = new URL(url);
let bytes = 0;
let cseq = 0;
let session = '';
let rtspDone = false;
let pending = '';

const sock = connect(Number(u.port || 554), u.hostname);
sock.setNoDelay(true);

function send(method: string, target: string, headers: string[]): void {
  const lines = [`${method} ${target} RTSP/1.0`, `CSeq: ${++cseq}`, ...headers];
  if (session) lines.push(`Session: ${session}`);
  sock.write(lines.join('\r\n') + '\r\n\r\n');
}

let step = 0;
let control = url;

async function bindPair(): Promise<[Dgram, Dgram, number]> {
  for (let i = 0; i < 50; i++) {
    const port = 40000 + 2 * Math.floor(Math.random() * 10000);
    const a = createSocket('udp4');
    const b = createSocket('udp4');
    const ok = await new Promise<boolean>((res) => {
      a.once('error', () => res(false));
      a.bind(port, '127.0.0.1', () => {
        b.once('error', () => res(false));
        b.bind(port + 1, '127.0.0.1', () => res(true));
      });
    });
    if (ok) return [a, b, port];
    a.close(); try { b.close(); } catch { /* not bound */ }
  }
  throw new Error('no udp port pair');
}

async function onResponse(head: string, body: string): Promise<void> {
  const status = Number(head.split(' ')[1]);
  if (status !== 200) { console.error('RTSP', head.split('\r\n')[0]); process.exit(2); }
  if (step === 1) {
    const base = /^Content-Base:\s*(\S+)/im.exec(head)?.[1] ?? url;
    const ctl = /^a=control:(\S+)/gm;
    let m: RegExpExecArray | null;
    let track = '';
    while ((m = ctl.exec(body))) if (m[1] !== '*') { track = m[1]!; break; }
    control = /^rtsp:/.test(track) ? track : new URL(track, base.endsWith('/') ? base : base + '/').href;
    step = 2;
    if (transport === 'tcp') send('SETUP', control, ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1']);
    else {
      const [rtp, rtcp, port] = await bindPair();
      rtp.on('message', (d) => { bytes += d.length; });
      rtcp.on('message', (d) => { bytes += d.length; });
      send('SETUP', control, [`Transport: RTP/AVP;unicast;client_port=${port}-${port + 1}`]);
    }
  } else if (step === 2) {
    session = (/^Session:\s*([^;\r\n]+)/im.exec(head)?.[1] ?? '').trim();
    step = 3;
    send('PLAY', url, ['Range: npt=0-']);
  } else if (step === 3) {
    rtspDone = true;
  }
}

sock.on('data', (d: Buffer) => {
  if (rtspDone) { bytes += d.length; return; }
  pending += d.toString('latin1');
  for (;;) {
    const end = pending.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = pending.slice(0, end);
    const len = Number(/^Content-Length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
    if (pending.length < end + 4 + len) return;
    const body = pending.slice(end + 4, end + 4 + len);
    const rest = pending.slice(end + 4 + len);
    pending = '';
    void onResponse(head, body).then(() => {
      if (rtspDone) bytes += rest.length; // interleaved bytes that came with the PLAY reply
      else if (rest) pending = rest;
    });
    return;
  }
});
sock.on('error', (e) => { console.error(e.message); process.exit(2); });
sock.on('connect', () => { step = 1; send('DESCRIBE', url, ['Accept: application/sdp']); });

process.on('SIGTERM', () => { process.stdout.write(JSON.stringify({ bytes }) + '\n'); process.exit(0); });
