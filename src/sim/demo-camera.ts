/**
 * The built-in demo camera: a small RTSP/1.0 server (RFC 2326) streaming Motion-JPEG over
 * RTP (RFC 3550, RFC 2435) with RTCP sender reports, modeled on what GStreamer's
 * rtsp-server sends, so that tests against it carry over to real servers. Used by `npm start`, by tests as a fault-injecting
 * server, and by benchmarks (replay mode).
 *
 * One shared media source feeds every session (like a camera): same SSRC, sequence numbers
 * and timestamps for all clients. Transport per session: UDP (client_port → server_port
 * pair) or TCP interleaved on the RTSP connection. Everything is bound to `host`
 * (127.0.0.1 by default) and close() releases every socket and timer.
 *
 * This file is the public face (startDemoCamera; its options, faults and stats are in
 * types.ts); the RTSP server is demo-rtsp-server.ts, the media fan-out demo-fanout.ts.
 */
import { DemoCameraServer } from './demo-rtsp-server';
import type { DemoCamera, DemoCameraOptions } from './types';

export type { DemoCamera, DemoCameraFaults, DemoCameraOptions, DemoCameraStats, DemoOnvif, DemoOnvifOptions, DemoOnvifStats } from './types';

export async function startDemoCamera(opts: DemoCameraOptions = {}): Promise<DemoCamera> {
  const cam = new DemoCameraServer(opts);
  await cam.start(opts.port ?? 0);
  if (!opts.onvif) return cam;
  // loaded only when asked for: the ONVIF side pulls in the XML parser
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { withOnvif } = require('./onvif-demo') as typeof import('./onvif-demo');
  return withOnvif(cam, opts);
}
