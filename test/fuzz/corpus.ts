/**
 * Fuzz seeds taken from the real captures in test/fixtures/vectors: RTP and RTCP packets,
 * whole frames' packet sequences, the RTSP byte streams of the TCP captures (text and `$`
 * frames as sent), SDPs, and the header values the servers and FFmpeg actually sent. Every
 * loader is lazy and cached, so a fuzz file pays only for what it uses.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPcap, rtspText, tcpStreams, vectorPackets } from '../support/pcap';

export const VECTORS_DIR = join(__dirname, '..', 'fixtures', 'vectors');

function once<T>(load: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= load());
}

export const vectorNames = once((): string[] =>
  readdirSync(VECTORS_DIR).filter((f) => f.endsWith('.pcap')).map((f) => f.slice(0, -5)).sort());

const packetsOf = new Map<string, ReturnType<typeof vectorPackets>>();
function packets(name: string): ReturnType<typeof vectorPackets> {
  let p = packetsOf.get(name);
  if (!p) { p = vectorPackets(join(VECTORS_DIR, `${name}.pcap`)); packetsOf.set(name, p); }
  return p;
}

/** Up to `perVector` RTP/JPEG packets of every vector, plus the PCMU packets of the audio vectors. */
export const rtpSeeds = once((): Buffer[] => {
  const out: Buffer[] = [];
  for (const n of vectorNames()) {
    out.push(...packets(n).rtp.slice(0, 200).map((x) => x.packet));
    if (n.includes('audio')) out.push(...vectorPackets(join(VECTORS_DIR, `${n}.pcap`), 0).rtp.slice(0, 20).map((x) => x.packet));
  }
  return out;
});

/** One vector's video packets split into frames (runs of one RTP timestamp, capture order). */
export interface FrameSequence {
  vector: string;
  packets: Buffer[];
}

/** Up to 6 whole frames per vector (the large 2560×1440 one has ~100 packets per frame). */
export const frameSequences = once((): FrameSequence[] => {
  const out: FrameSequence[] = [];
  for (const n of vectorNames()) {
    let cur: Buffer[] = [];
    let ts = -1;
    let count = 0;
    for (const { packet } of packets(n).rtp) {
      const t = packet.readUInt32BE(4);
      if (t !== ts && cur.length) {
        out.push({ vector: n, packets: cur });
        if (++count >= 6) { cur = []; break; }
        cur = [];
      }
      ts = t;
      cur.push(packet);
    }
    if (cur.length && count < 6) out.push({ vector: n, packets: cur });
  }
  return out;
});

/** Every RTCP compound the servers sent (SR + SDES, BYE …). */
export const rtcpSeeds = once((): Buffer[] => {
  const out: Buffer[] = [];
  for (const n of vectorNames()) out.push(...packets(n).rtcp.slice(0, 100).map((x) => x.packet));
  return out;
});

/** The complete TCP byte stream of each direction of each TCP capture: RTSP text and `$` frames as sent. */
export const rtspStreams = once((): Buffer[] => {
  const out: Buffer[] = [];
  for (const n of vectorNames()) {
    if (!n.endsWith('-tcp')) continue;
    for (const { data } of tcpStreams(readPcap(join(VECTORS_DIR, `${n}.pcap`))).values()) out.push(data);
  }
  return out;
});

/** The RTSP text of every TCP capture per direction (requests from FFmpeg, responses from GStreamer). */
export const rtspTexts = once((): string[] => {
  const out: string[] = [];
  for (const n of vectorNames()) {
    if (!n.endsWith('-tcp')) continue;
    out.push(...rtspText(readPcap(join(VECTORS_DIR, `${n}.pcap`))).values());
  }
  return out;
});

interface VectorJson { sdp?: string | null; rtsp?: [number, ...string[]][] }

const vectorJson = once((): VectorJson[] =>
  vectorNames().flatMap((n) => {
    const f = join(VECTORS_DIR, `${n}.json`);
    return existsSync(f) ? [JSON.parse(readFileSync(f, 'utf8')) as VectorJson] : [];
  }));

/** SDPs: DESCRIBE bodies recorded in the vectors' .json files and the FFmpeg .sdp files. */
export const sdpSeeds = once((): string[] => {
  const out = new Set<string>();
  for (const j of vectorJson()) if (typeof j.sdp === 'string') out.add(j.sdp);
  for (const n of vectorNames()) {
    const f = join(VECTORS_DIR, `${n}.sdp`);
    if (existsSync(f)) out.add(readFileSync(f, 'latin1'));
  }
  return [...out];
});

/** Every "Name: value" header line in the RTSP text of the captures, both directions, deduplicated. */
export const headerLines = once((): { name: string; value: string }[] => {
  const seen = new Set<string>();
  const out: { name: string; value: string }[] = [];
  for (const text of rtspTexts()) {
    for (const line of text.split(/\r?\n/)) {
      const c = line.indexOf(':');
      if (c <= 0 || line.startsWith('RTSP/') || /^[a-z]=/.test(line)) continue;
      if (seen.has(line)) continue;
      seen.add(line);
      out.push({ name: line.slice(0, c).trim().toLowerCase(), value: line.slice(c + 1).trim() });
    }
  }
  return out;
});

/** Values of one header (lower-case name) seen in the captures. */
export function headerValues(name: string): string[] {
  return headerLines().filter((h) => h.name === name).map((h) => h.value);
}

/** Request-URIs FFmpeg sent, plus Content-Base and RTP-Info urls the servers sent. */
export const urlSeeds = once((): string[] => {
  const out = new Set<string>();
  for (const text of rtspTexts()) {
    for (const m of text.matchAll(/^[A-Z_]+ (\S+) RTSP\/1\.0/gm)) out.add(m[1]!);
  }
  for (const v of headerValues('content-base')) out.add(v);
  for (const v of headerValues('rtp-info')) for (const m of v.matchAll(/url=([^;,]+)/g)) out.add(m[1]!);
  return [...out];
});

/** Control attributes of the SDPs (a=control:…). */
export const controlSeeds = once((): string[] => {
  const out = new Set<string>(['*', '', 'trackID=1', '/cam/stream=0']);
  for (const s of sdpSeeds()) for (const m of s.matchAll(/^a=control:(.*)$/gm)) out.add(m[1]!.trim());
  return [...out];
});
