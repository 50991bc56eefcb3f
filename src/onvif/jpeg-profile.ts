/**
 * Which media profile to stream: the one whose video encoder is JPEG (Motion-JPEG over RTP,
 * RFC 2435), the largest by pixel count, optionally no larger than a limit. ONVIF Profile S
 * devices must offer a JPEG encoder, but many ship with it off; a device without one gets a
 * reason that lists what it does offer and says where to change it.
 */
import type { MediaProfile } from './wire/media-messages';

export interface JpegChoiceOptions {
  /** largest accepted width (no limit by default) */
  maxWidth?: number | undefined;
  maxHeight?: number | undefined;
}

export type JpegChoice<T extends MediaProfile> = { profile: T; reason: null } | { profile: null; reason: string };

const size = (p: MediaProfile): string => (p.width && p.height ? ` ${p.width}x${p.height}` : '');
const pixels = (p: MediaProfile): number => (p.width ?? 0) * (p.height ?? 0);

/** What the device offers, e.g. "H264 1920x1080, H264 640x360" (each encoding and size once). */
export function describeOffers(profiles: readonly MediaProfile[]): string {
  const seen = new Set<string>();
  for (const p of profiles) if (p.encoding) seen.add(`${p.encoding}${size(p)}`);
  return [...seen].join(', ');
}

export function chooseJpegProfile<T extends MediaProfile>(profiles: readonly T[], opts: JpegChoiceOptions = {}): JpegChoice<T> {
  const jpeg = profiles.filter((p) => p.encoding === 'JPEG');
  const offers = describeOffers(profiles);
  if (jpeg.length === 0) {
    return {
      profile: null,
      reason: offers ? `no Motion-JPEG profile: the camera offers ${offers}; enable MJPEG on a sub-stream in its web page`
        : 'no Motion-JPEG profile: the camera lists no video profile; enable MJPEG on a stream in its web page',
    };
  }
  const fits = (p: T): boolean => (!opts.maxWidth || !p.width || p.width <= opts.maxWidth) && (!opts.maxHeight || !p.height || p.height <= opts.maxHeight);
  const candidates = jpeg.filter(fits);
  if (candidates.length === 0) {
    const limit = `${opts.maxWidth ?? 'any'}x${opts.maxHeight ?? 'any'}`;
    return { profile: null, reason: `no Motion-JPEG profile within ${limit}: the camera offers ${offers}; lower the JPEG resolution in its web page or raise the limit` };
  }
  // the largest; among equal sizes, the device's own order (its first profile is its main one)
  let best = candidates[0]!;
  for (const p of candidates) if (pixels(p) > pixels(best)) best = p;
  return { profile: best, reason: null };
}
