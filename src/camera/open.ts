/** The library's entry point: a CameraSession for a URL, already started. */
import { CameraSession } from './session';
import type { CameraOptions } from './types';

export function openCamera(url: string, options: CameraOptions = {}): CameraSession {
  const session = new CameraSession(url, options);
  if (options.autoStart !== false) session.start();
  return session;
}
