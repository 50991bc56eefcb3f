/**
 * The editor's "Test connection" button: open a session, wait for the track list and one
 * complete frame, close it, and summarise. Failures come back as the short reason plus the
 * (already redacted) message; the caller redacts once more before the text leaves.
 */
import { openCamera } from '../../camera/open';
import type { CameraSession } from '../../camera/session';
import type { CameraOptions, FrameInfo, StatsReport, TrackInfo } from '../../camera/types';
import { CameraError } from '../../errors';

export interface ConnectionTestOk {
  ok: true;
  tracks: TrackInfo[];
  codec: string | null;
  width: number;
  height: number;
  fps: number | null;
  transport: StatsReport['transport'];
  /** base64 JPEG of the first frame */
  snapshot: string;
}

export interface ConnectionTestFailed {
  ok: false;
  reason: string;
  message: string;
}

export type ConnectionTestResult = ConnectionTestOk | ConnectionTestFailed;

export async function testConnection(url: string, options: CameraOptions, timeoutMs: number): Promise<ConnectionTestResult> {
  let session: CameraSession;
  try {
    session = openCamera(url, { ...options, autoStart: true });
  } catch (err) {
    return failure(err);
  }
  let tracks: TrackInfo[] = [];
  let timer: NodeJS.Timeout | undefined;
  let onFrame: ((jpeg: Buffer, info: FrameInfo) => void) | undefined;
  let onError: ((err: CameraError) => void) | undefined;
  const onTracks = (t: TrackInfo[]): void => {
    tracks = t;
  };
  // an 'error' event without any listener would throw: keep one for the session's whole life
  const ignore = (): void => {};
  session.on('error', ignore);
  session.on('tracks', onTracks);
  try {
    const frame = await new Promise<{ jpeg: Buffer; info: FrameInfo }>((resolve, reject) => {
      timer = setTimeout(() => reject(new CameraError('timeout', `no frame within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      onFrame = (jpeg, info) => resolve({ jpeg, info });
      // the first failure answers the test: the session would otherwise back off and retry
      onError = reject;
      session.on('frame', onFrame);
      session.on('error', onError);
    });
    if (tracks.length === 0) tracks = session.tracks ?? [];
    const video = tracks.find((t) => t.kind === 'video');
    const stats = session.getStats();
    return {
      ok: true,
      tracks,
      codec: video ? video.encoding : null,
      width: frame.info.width,
      height: frame.info.height,
      fps: video?.fps ?? (stats.fps > 0 ? stats.fps : null),
      transport: stats.transport,
      snapshot: frame.jpeg.toString('base64'),
    };
  } catch (err) {
    return failure(err);
  } finally {
    if (timer) clearTimeout(timer);
    session.removeListener('tracks', onTracks);
    if (onFrame) session.removeListener('frame', onFrame);
    if (onError) session.removeListener('error', onError);
    await session.close().catch(() => undefined);
    session.removeListener('error', ignore);
  }
}

function failure(err: unknown): ConnectionTestFailed {
  if (err instanceof CameraError) return { ok: false, reason: err.reason, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, reason: 'protocol error', message };
}
