/**
 * Turns the `rtsp-camera` config node's editor fields (strings and numbers as the editor
 * stores them) into CameraOptions, with the defaults the camera layer documents. Bad values
 * fall back to the default instead of throwing: the editor validates, this keeps hand-edited
 * or imported flows from taking the runtime down.
 */
import { DEFAULT_UDP_PORT_RANGE } from '../../camera/defaults';
import { parseDeviceUrl } from '../../onvif/device-url';
import type { CameraOptions, TransportMode } from '../../camera/types';

/** The editor fields of an `rtsp-camera` node (node definition minus id/type/z). */
export interface CameraFields {
  name?: string | undefined;
  url?: string | undefined;
  transport?: string | undefined;
  setupAudio?: boolean | string | undefined;
  /** seconds */
  reconnectMin?: number | string | undefined;
  /** seconds */
  reconnectMax?: number | string | undefined;
  /** seconds */
  stallTimeout?: number | string | undefined;
  /** "50000-51999" */
  udpPortRange?: string | undefined;
  /** megabytes */
  maxFrameMB?: number | string | undefined;
  width?: number | string | undefined;
  height?: number | string | undefined;
  /** "always" (default) or "on demand" */
  connect?: string | undefined;
  /** seconds an on-demand session stays up after the last consumer left */
  linger?: number | string | undefined;
  /** the camera's ONVIF device-service URL (optional; filled by the editor's Find cameras) */
  onvif?: string | undefined;
}

export const TRANSPORTS: readonly TransportMode[] = ['tcp', 'auto', 'udp', 'multicast', 'http'];
/** the transport layer's default range, as the editor and settings.js write it */
export const DEFAULT_UDP_PORT_RANGE_TEXT = DEFAULT_UDP_PORT_RANGE.join('-');

function num(v: unknown, min: number, max: number): number | undefined {
  if (v === '' || v === null || v === undefined || typeof v === 'boolean') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < min || n > max) return undefined;
  return n;
}

/** "50000-51999" → [50000, 51999] with an even start (RFC 3550 §11: RTP on even, RTCP on
 * the next odd port) and room for at least one pair; null when malformed. */
export function parsePortRange(text: string | undefined): [number, number] | null {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text ?? '');
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo < 1024 || hi > 65535 || lo % 2 !== 0 || hi < lo + 1) return null;
  return [lo, hi];
}

export function parseTransport(v: unknown): TransportMode {
  return TRANSPORTS.includes(v as TransportMode) ? (v as TransportMode) : 'tcp';
}

export function cameraOptionsFromFields(f: CameraFields, defaultPortRange: string): CameraOptions {
  const opts: CameraOptions = { transport: parseTransport(f.transport) };
  opts.setupAudio = f.setupAudio === true || f.setupAudio === 'true';
  const rmin = num(f.reconnectMin, 0.1, 3600);
  const rmax = num(f.reconnectMax, 0.1, 3600);
  if (rmin !== undefined) opts.reconnectMinMs = Math.round(rmin * 1000);
  if (rmax !== undefined) opts.reconnectMaxMs = Math.round(Math.max(rmax, rmin ?? 0) * 1000);
  const stall = num(f.stallTimeout, 1, 3600);
  if (stall !== undefined) opts.stallTimeoutMs = Math.round(stall * 1000);
  const range = parsePortRange(f.udpPortRange) ?? parsePortRange(defaultPortRange);
  if (range) opts.udpPortRange = range;
  const mb = num(f.maxFrameMB, 0.01, 256);
  if (mb !== undefined) opts.maxFrameBytes = Math.round(mb * 1024 * 1024);
  const w = num(f.width, 1, 65535);
  const h = num(f.height, 1, 65535);
  if (w !== undefined && h !== undefined) {
    opts.width = Math.round(w);
    opts.height = Math.round(h);
  }
  return opts;
}

/** The `onvif` field as a device-service URL without credentials, or null when empty or unusable. */
export function onvifUrlFromField(v: unknown): string | null {
  if (typeof v !== 'string' || v.trim() === '') return null;
  return parseDeviceUrl(v)?.url ?? null;
}
