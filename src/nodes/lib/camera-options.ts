/**
 * Turns the `rtsp-camera` config node's editor fields (strings and numbers as the editor
 * stores them) into CameraOptions, with the defaults the camera layer documents. Bad values
 * fall back to the default instead of throwing: the editor validates, this keeps hand-edited
 * or imported flows from taking the runtime down.
 */
import { DEFAULT_UDP_PORT_RANGE } from '../../camera/defaults';
import { formatPortRange, parsePortRange } from '../../rtp/port-range';
import { parseDeviceUrl } from '../../onvif/device-url';
import type { CameraOptions, TransportMode } from '../../camera/types';
import { flagField, numberField } from './fields';

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
  /** http(s) snapshot URLs: pictures per second to poll (default 1) */
  snapshotFps?: number | string | undefined;
}

export const TRANSPORTS: readonly TransportMode[] = ['tcp', 'auto', 'udp', 'multicast', 'http'];
/** the camera layer's default range, as the editor and settings.js write it */
export const DEFAULT_UDP_PORT_RANGE_TEXT = formatPortRange(DEFAULT_UDP_PORT_RANGE);

export function parseTransport(v: unknown): TransportMode {
  return TRANSPORTS.includes(v as TransportMode) ? (v as TransportMode) : 'tcp';
}

export function cameraOptionsFromFields(f: CameraFields, defaultPortRange: string): CameraOptions {
  const opts: CameraOptions = { transport: parseTransport(f.transport) };
  opts.setupAudio = flagField(f.setupAudio, false);
  const rmin = numberField(f.reconnectMin, 0.1, 3600, undefined);
  const rmax = numberField(f.reconnectMax, 0.1, 3600, undefined);
  if (rmin !== undefined) opts.reconnectMinMs = Math.round(rmin * 1000);
  if (rmax !== undefined) opts.reconnectMaxMs = Math.round(Math.max(rmax, rmin ?? 0) * 1000);
  const stall = numberField(f.stallTimeout, 1, 3600, undefined);
  if (stall !== undefined) opts.stallTimeoutMs = Math.round(stall * 1000);
  const range = parsePortRange(f.udpPortRange) ?? parsePortRange(defaultPortRange);
  if (range) opts.udpPortRange = range;
  const mb = numberField(f.maxFrameMB, 0.01, 256, undefined);
  if (mb !== undefined) opts.maxFrameBytes = Math.round(mb * 1024 * 1024);
  const snap = numberField(f.snapshotFps, 0.01, 30, undefined);
  if (snap !== undefined) opts.snapshotFps = snap;
  const w = numberField(f.width, 1, 65535, undefined);
  const h = numberField(f.height, 1, 65535, undefined);
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
