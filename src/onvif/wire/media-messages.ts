/**
 * Media profiles and their URIs, from the Media service (ONVIF Media Service Specification
 * §5.2.2 GetProfiles, §5.15.1 GetStreamUri, §5.16.1 GetSnapshotUri) or the Media 2 service
 * (ONVIF Media 2 Service Specification §5.1.2 GetProfiles with Type=VideoEncoder, §5.4.1
 * GetStreamUri, §5.5.1 GetSnapshotUri). Request bodies and readers of the response elements.
 */
import { TR2, TRT, TT } from './namespaces';
import { child, children, escapeXml, textAt, type XmlElement } from './xml';

export type MediaVersion = 1 | 2;

export const MEDIA_ACTIONS = {
  1: { getProfiles: `${TRT}/GetProfiles`, getStreamUri: `${TRT}/GetStreamUri`, getSnapshotUri: `${TRT}/GetSnapshotUri` },
  2: { getProfiles: `${TR2}/GetProfiles`, getStreamUri: `${TR2}/GetStreamUri`, getSnapshotUri: `${TR2}/GetSnapshotUri` },
} as const;

export interface MediaProfile {
  token: string;
  name: string;
  /** video encoding as the device names it, upper-case ("JPEG", "H264", "H265", "MPEG4"); null without a video encoder */
  encoding: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
}

export function getProfilesBody(v: MediaVersion): string {
  // Media 2 §5.1.2: without a Type the profiles come without their configurations
  return v === 2 ? `<tr2:GetProfiles xmlns:tr2="${TR2}"><tr2:Type>VideoEncoder</tr2:Type></tr2:GetProfiles>` : `<trt:GetProfiles xmlns:trt="${TRT}"/>`;
}

/** RTP unicast with RTSP as the control protocol: Media §5.15.1 (Stream RTP-Unicast, Protocol RTSP), Media 2 §5.4.1 (RtspUnicast). */
export function getStreamUriBody(v: MediaVersion, token: string): string {
  if (v === 2) return `<tr2:GetStreamUri xmlns:tr2="${TR2}"><tr2:Protocol>RtspUnicast</tr2:Protocol><tr2:ProfileToken>${escapeXml(token)}</tr2:ProfileToken></tr2:GetStreamUri>`;
  return `<trt:GetStreamUri xmlns:trt="${TRT}" xmlns:tt="${TT}"><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>` +
    `<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>${escapeXml(token)}</trt:ProfileToken></trt:GetStreamUri>`;
}

export function getSnapshotUriBody(v: MediaVersion, token: string): string {
  return v === 2 ? `<tr2:GetSnapshotUri xmlns:tr2="${TR2}"><tr2:ProfileToken>${escapeXml(token)}</tr2:ProfileToken></tr2:GetSnapshotUri>`
    : `<trt:GetSnapshotUri xmlns:trt="${TRT}"><trt:ProfileToken>${escapeXml(token)}</trt:ProfileToken></trt:GetSnapshotUri>`;
}

const MAX_PROFILES = 256;

function dimension(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n > 0 ? n : null;
}

function frameRate(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = Number(s);
  return Number.isFinite(n) && n > 0 && n <= 1000 ? n : null;
}

/** Upper-case encoding name; "MJPEG"/"MJPG" as some firmware writes it count as JPEG. */
export function normalizeEncoding(s: string | undefined): string | null {
  if (!s) return null;
  const e = s.trim().toUpperCase().slice(0, 32);
  if (e === 'MJPEG' || e === 'MJPG') return 'JPEG';
  return e || null;
}

function encoderFields(enc: XmlElement | undefined): Pick<MediaProfile, 'encoding' | 'width' | 'height' | 'fps'> {
  return {
    encoding: normalizeEncoding(child(enc, TT, 'Encoding')?.text),
    width: dimension(textAt(enc, [TT, 'Resolution'], [TT, 'Width'])),
    height: dimension(textAt(enc, [TT, 'Resolution'], [TT, 'Height'])),
    fps: frameRate(textAt(enc, [TT, 'RateControl'], [TT, 'FrameRateLimit'])),
  };
}

/** Profiles of a GetProfilesResponse of either service version. */
export function parseProfiles(v: MediaVersion, res: XmlElement | undefined): MediaProfile[] {
  const ns = v === 2 ? TR2 : TRT;
  const out: MediaProfile[] = [];
  for (const p of children(res, ns, 'Profiles').slice(0, MAX_PROFILES)) {
    const token = (p.attrs['token'] ?? '').slice(0, 128);
    if (!token) continue;
    const name = (child(p, v === 2 ? TR2 : TT, 'Name')?.text ?? '').slice(0, 128);
    const enc = v === 2 ? child(child(p, TR2, 'Configurations'), TR2, 'VideoEncoder') : child(p, TT, 'VideoEncoderConfiguration');
    out.push({ token, name, ...encoderFields(enc) });
  }
  return out;
}

/** The URI of a GetStreamUriResponse or GetSnapshotUriResponse (Media: MediaUri/Uri; Media 2: Uri). */
export function parseUri(v: MediaVersion, res: XmlElement | undefined): string | null {
  const uri = v === 2 ? child(res, TR2, 'Uri')?.text : textAt(res, [TRT, 'MediaUri'], [TT, 'Uri']);
  return uri && uri.length <= 2048 && /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(uri) ? uri : null;
}
