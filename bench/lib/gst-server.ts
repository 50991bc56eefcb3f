/** The project's GStreamer RTSP server launcher (test/peers/gst-rtsp-server.py), used read-only. */
import { join } from 'node:path';
import { startHelper, type Helper } from './proc';

export const ROOT = join(__dirname, '..', '..');

export interface GstServer { url: string; helper: Helper }

export async function startGstServer(opts: { width: number; height: number; fps: number; quality?: number; durationS: number }): Promise<GstServer> {
  const args = [join(ROOT, 'test', 'peers', 'gst-rtsp-server.py'), '--port', '0', '--path', '/bench',
    '--width', String(opts.width), '--height', String(opts.height), '--fps', String(opts.fps),
    '--quality', String(opts.quality ?? 85), '--duration', String(opts.durationS), '--exit-on-stdin-eof'];
  const { helper, match } = await startHelper('/usr/bin/python3', args, /READY (rtsp:\/\/\S+)/, 20000);
  return { url: match[1]!, helper };
}
