/**
 * Library API (ARCHITECTURE.md "Public contract"): `require('node-red-contrib-rtsp-mjpeg')`.
 */
export { openCamera } from './camera/open';
export { CameraSession } from './camera/session';
export { JpegDepacketizer } from './jpeg/depacketizer';
export type { JpegFrame, JpegDepacketizerOptions, DepacketizerStats } from './jpeg/depacketizer';
export { CameraError } from './errors';
export type { CameraErrorReason } from './errors';
export type {
  CameraOptions, CameraSessionEvents, CameraState, FrameInfo, SenderReportInfo, StateChange, StatsReport, TrackInfo, TransportMode,
} from './camera/types';
export type { DemoCamera, DemoCameraOptions, DemoCameraFaults, DemoCameraStats } from './sim/demo-camera';
import type { DemoCamera, DemoCameraOptions } from './sim/demo-camera';

/**
 * The built-in demo camera (src/sim). Its module (JPEG encoder, test pattern, RTSP server) loads
 * on the first call, so `require`-ing the library for cameras does not pay for it (start-up
 * CPU counts in every process).
 */
export function startDemoCamera(opts: DemoCameraOptions = {}): Promise<DemoCamera> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sim = require('./sim/demo-camera') as typeof import('./sim/demo-camera');
  return sim.startDemoCamera(opts);
}
