/**
 * The library's entry point: a CameraSession for a URL, already started. rtsp:// and
 * rtsps:// URLs get the RTSP session; http:// and https:// ones (an MJPEG stream or a
 * snapshot URL) the HTTP source, which has the same public surface, events and lifecycle.
 */
import { CameraSession } from './session';
import { HttpCameraSession } from './http-session';
import { isHttpUrl } from '../mjpeg/http-url';
import type { CameraOptions } from './types';

export function openCamera(url: string, options: CameraOptions = {}): CameraSession {
  // HttpCameraSession implements every public member of CameraSession (checked where it is
  // declared); the cast stands until both are one class over two kinds of attempt
  const session = isHttpUrl(url) ? (new HttpCameraSession(url, options) as unknown as CameraSession) : new CameraSession(url, options);
  if (options.autoStart !== false) session.start();
  return session;
}
