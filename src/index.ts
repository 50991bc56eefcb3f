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
export { startDemoCamera } from './sim/demo-camera';
export type { DemoCamera, DemoCameraOptions, DemoCameraFaults, DemoCameraStats } from './sim/demo-camera';
