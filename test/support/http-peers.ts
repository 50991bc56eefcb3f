/**
 * Real third-party HTTP MJPEG servers for the interop tests and the bench: FFmpeg's mpjpeg
 * muxer over its HTTP server (`-listen 1`: one client, then it exits), VLC's `mpjpeg` HTTP
 * output (as user nobody: VLC refuses root), and Debian's `motion` stream server fed a movie
 * file. Each binds 127.0.0.1 and runs under `timeout` in its own process group
 * (spawnTracked), so nothing outlives the test process.
 *
 * And a tap: a TCP relay between our client and the server that keeps what the server sent,
 * so a test can count the pictures on the wire with a parser of its own (countSentPictures:
 * plain splitting on the delimiter, nothing shared with src/mjpeg), independent of ours.
 */
import * as net from 'node:net';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freeTcpPort, spawnTracked, stopChild } from './peers';

/* ------------------------------------------------------------------------------------------ */
/* availability                                                                                */

/** Skips `t` when `motion` is missing (fails under REQUIRE_PEERS=1, as skipUnlessPeer does). */
export function skipUnlessMotion(t: TestContext): boolean {
  if (existsSync('/usr/bin/motion')) return true;
  const msg = 'peer missing: motion: apt-get install motion';
  if (process.env.REQUIRE_PEERS === '1') throw new Error(`${msg} (REQUIRE_PEERS=1)`);
  t.skip(msg);
  return false;
}

/* ------------------------------------------------------------------------------------------ */
/* tap                                                                                         */

export interface Tap {
  port: number;
  url(path: string): string;
  /** what the server sent on each relayed connection so far */
  received(): Buffer[];
  close(): Promise<void>;
}

/** A relay to 127.0.0.1:`targetPort`; the upstream connect is retried (the server may still be starting). */
export async function startTap(targetPort: number, keepBytes = 256 * 1024 * 1024): Promise<Tap> {
  const recorded: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  let kept = 0;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    client.pause();
    const chunks: Buffer[] = [];
    recorded.push(chunks);
    const deadline = Date.now() + 15000;
    const connect = (): void => {
      const up = net.connect(targetPort, '127.0.0.1');
      sockets.add(up);
      up.on('close', () => { sockets.delete(up); client.destroy(); });
      up.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' && !client.destroyed && Date.now() < deadline) { sockets.delete(up); up.removeAllListeners('close'); setTimeout(connect, 100); return; }
        client.destroy();
      });
      up.once('connect', () => {
        up.on('error', () => undefined);
        up.on('data', (d: Buffer) => {
          if (kept + d.length <= keepBytes) { chunks.push(Buffer.from(d)); kept += d.length; }
          client.write(d);
        });
        client.on('data', (d: Buffer) => up.write(d));
        client.on('close', () => up.destroy());
        client.resume();
      });
    };
    connect();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received: () => recorded.map((c) => Buffer.concat(c)),
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/**
 * Complete JPEG pictures in a raw HTTP response as the server sent it: the head, chunked
 * transfer coding undone, the body split on `--boundary`, a part counted when its body is
 * SOI … EOI. A deliberately plain second reading of the same bytes.
 */
export function countSentPictures(raw: Buffer): { pictures: number; boundary: string | null } {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return { pictures: 0, boundary: null };
  const head = raw.subarray(0, headEnd).toString('latin1');
  let body = raw.subarray(headEnd + 4);
  if (/^transfer-encoding:\s*chunked/im.test(head)) {
    const out: Buffer[] = [];
    let i = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', i);
      if (eol < 0) break;
      const size = parseInt(body.subarray(i, eol).toString('latin1'), 16);
      if (!Number.isFinite(size) || size === 0) break;
      out.push(body.subarray(eol + 2, Math.min(body.length, eol + 2 + size)));
      i = eol + 2 + size + 2;
      if (i > body.length) break;
    }
    body = Buffer.concat(out);
  }
  let boundary = /boundary="?([^";\r\n]+)"?/i.exec(head)?.[1]?.replace(/^--/, '') ?? null;
  if (boundary === null) boundary = /^\s*--(\S+)/.exec(body.subarray(0, 200).toString('latin1'))?.[1] ?? null;
  if (boundary === null) return { pictures: 0, boundary };
  let pictures = 0;
  const parts = body.toString('latin1').split(`--${boundary}`);
  for (const p of parts) {
    const b = Buffer.from(p, 'latin1');
    const sep = b.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    let s = sep + 4;
    let e = b.length;
    while (e > s && (b[e - 1] === 0x0a || b[e - 1] === 0x0d)) e--;
    while (s < e && (b[s] === 0x0a || b[s] === 0x0d)) s++;
    if (e - s > 4 && b[s] === 0xff && b[s + 1] === 0xd8 && b[e - 2] === 0xff && b[e - 1] === 0xd9) pictures++;
  }
  return { pictures, boundary };
}

/* ------------------------------------------------------------------------------------------ */
/* servers                                                                                     */

export interface HttpPeer {
  port: number;
  url: string;
  log(): string;
  stop(): Promise<void>;
}

export interface FfmpegMpjpegOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** send this many frames, then end the stream */
  frames?: number;
  /** `-content_type`; FFmpeg's default is application/octet-stream */
  contentType?: string;
  /** hard time limit, seconds (default 60) */
  duration?: number;
}

/** FFmpeg serving `-f mpjpeg` over HTTP to ONE client (`-listen 1`), testsrc2 in real time. */
export async function startFfmpegMpjpeg(o: FfmpegMpjpegOptions = {}): Promise<HttpPeer> {
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}/stream`;
  const args = ['-s', 'KILL', String(o.duration ?? 60), 'ffmpeg', '-hide_banner', '-nostdin', '-v', 'warning', '-re', '-f', 'lavfi',
    '-i', `testsrc2=size=${o.width ?? 320}x${o.height ?? 240}:rate=${o.fps ?? 25}`, '-pix_fmt', 'yuvj420p', '-c:v', 'mjpeg', '-q:v', '5'];
  if (o.frames !== undefined) args.push('-frames:v', String(o.frames));
  if (o.contentType) args.push('-content_type', o.contentType);
  args.push('-f', 'mpjpeg', '-listen', '1', url);
  const child = spawnTracked('timeout', args);
  let log = '';
  child.stdout?.resume();
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-10000); });
  return { port, url, log: () => log, stop: () => stopChild(child) };
}

function nobodyIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' });
    const n = Number((r.stdout ?? '').trim());
    return r.status === 0 && Number.isInteger(n) ? n : 65534;
  };
  return { uid: id('-u'), gid: id('-g') };
}

/** An MJPEG clip made by FFmpeg (testsrc2), readable by user nobody. */
function makeClip(dir: string, o: { width?: number; height?: number; fps?: number; seconds?: number }, ext: 'avi' | 'mkv'): string {
  const clip = join(dir, `src.${ext}`);
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${o.width ?? 320}x${o.height ?? 240}:rate=${o.fps ?? 25}`,
    '-t', String(o.seconds ?? 30), '-c:v', 'mjpeg', '-q:v', '5', '-pix_fmt', 'yuvj420p', '-y', clip], { timeout: 120000 });
  if (r.status !== 0) throw new Error(`ffmpeg clip failed: ${r.stderr?.toString()}`);
  chmodSync(clip, 0o644);
  return clip;
}

/** VLC's HTTP output with the mpjpeg muxer, an MJPEG clip passed through unchanged (looped). */
export async function startVlcMpjpeg(o: { width?: number; height?: number; fps?: number; duration?: number } = {}): Promise<HttpPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'vlc-mpjpeg-'));
  chmodSync(dir, 0o777);
  const clip = makeClip(dir, { ...o, seconds: 30 }, 'avi');
  const port = await freeTcpPort();
  const args = ['-s', 'KILL', String(o.duration ?? 60), 'cvlc', '-I', 'dummy', '--no-audio', '--loop', clip,
    '--sout', `#standard{access=http,mux=mpjpeg,dst=127.0.0.1:${port}/stream.mjpg}`, '--sout-keep'];
  const child = spawnTracked('timeout', args, { ...nobodyIds(), cwd: dir, env: { ...process.env, HOME: dir } });
  let log = '';
  child.stdout?.resume();
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-10000); });
  return { port, url: `http://127.0.0.1:${port}/stream.mjpg`, log: () => log, stop: () => stopChild(child) };
}

/** Debian's motion: its stream server (stream_port) serving a movie file it loops (netcam_url file://). */
export async function startMotion(o: { width?: number; height?: number; fps?: number; duration?: number } = {}): Promise<HttpPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'motion-'));
  const clip = makeClip(dir, { ...o, seconds: 20 }, 'mkv');
  const port = await freeTcpPort();
  const conf = join(dir, 'motion.conf');
  writeFileSync(conf, [
    'daemon off', 'setup_mode off', 'log_level 5', `target_dir ${dir}`, `netcam_url file://${clip}`,
    `width ${o.width ?? 320}`, `height ${o.height ?? 240}`, `framerate ${o.fps ?? 10}`,
    `stream_port ${port}`, 'stream_localhost on', `stream_maxrate ${o.fps ?? 10}`, 'stream_quality 80',
    'webcontrol_port 0', 'picture_output off', 'movie_output off', '',
  ].join('\n'));
  const child = spawnTracked('timeout', ['-s', 'KILL', String(o.duration ?? 60), 'motion', '-n', '-c', conf], { cwd: dir });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-10000); });
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-10000); });
  return { port, url: `http://127.0.0.1:${port}/`, log: () => log, stop: () => stopChild(child) };
}
