/**
 * Recorded RTP/JPEG packet streams made by GStreamer (independent of our packetizer):
 * videotestsrc ! jpegenc ! rtpjpegpay ! rtpstreampay ! filesink, i.e. RFC 4571 framing
 * (16-bit big-endian length before each RTP packet). Generated once into bench/results/tmp.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { TMP } from './compile';

export interface Recording {
  name: string;
  width: number;
  height: number;
  /** every RTP packet in its own Buffer, as datagrams arrive */
  packets: Buffer[];
  /** packets grouped per frame (marker bit closes a frame) */
  frames: Buffer[][];
  payloadBytes: number;
}

export function recordingFile(width: number, height: number, frames: number, pattern = 'smpte'): string {
  mkdirSync(TMP, { recursive: true });
  const file = join(TMP, `rtpjpeg-${width}x${height}-${pattern}-${frames}.rtp4571`);
  if (existsSync(file)) return file;
  const part = `${file}.part`;
  execFileSync('gst-launch-1.0', ['-q', 'videotestsrc', `num-buffers=${frames}`, `pattern=${pattern}`, '!',
    `video/x-raw,width=${width},height=${height},framerate=25/1,format=I420`, '!', 'jpegenc', 'quality=85', '!',
    'rtpjpegpay', 'pt=26', 'mtu=1400', '!', 'rtpstreampay', '!', 'filesink', `location=${part}`], { timeout: 120000, stdio: 'pipe' });
  renameSync(part, file);
  return file;
}

export function loadRecording(file: string, width: number, height: number): Recording {
  const data = readFileSync(file);
  const packets: Buffer[] = [];
  const frames: Buffer[][] = [];
  let cur: Buffer[] = [];
  let payloadBytes = 0;
  for (let off = 0; off + 2 <= data.length;) {
    const len = data.readUInt16BE(off);
    if (off + 2 + len > data.length) break;
    const p = Buffer.allocUnsafeSlow(len); // own allocation, like a datagram
    data.copy(p, 0, off + 2, off + 2 + len);
    off += 2 + len;
    packets.push(p);
    cur.push(p);
    payloadBytes += len - 12;
    if (p[1]! & 0x80) { frames.push(cur); cur = []; }
  }
  return { name: `${width}x${height}`, width, height, packets, frames, payloadBytes };
}
