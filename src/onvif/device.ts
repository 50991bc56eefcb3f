/**
 * Everything a user needs from one ONVIF device to stream it: the clock offset
 * (GetSystemDateAndTime first, ONVIF Core §8.3.6, so WS-Security works on a camera whose clock
 * is off), the service addresses (GetServices §8.1.2.2, or GetCapabilities §8.1.2.4 on devices
 * without it), the device information (§8.3.1), every media profile (Media 2 where the device
 * offers it, else Media) with its RTSP stream URI and snapshot URI, and the JPEG profile to use
 * (jpeg-profile.ts).
 */
import { CameraError } from '../errors';
import { SoapClient, type SoapClientOptions } from './soap-client';
import { withoutCredentials } from './device-url';
import { chooseJpegProfile } from './jpeg-profile';
import {
  ACTIONS, getCapabilitiesBody, getDeviceInformationBody, getServicesBody, getSystemDateAndTimeBody,
  parseCapabilities, parseDeviceInformation, parseServices, parseSystemDateAndTime, type ServiceAddresses,
} from './wire/device-messages';
import { MEDIA_ACTIONS, getProfilesBody, getSnapshotUriBody, getStreamUriBody, parseProfiles, parseUri, type MediaProfile, type MediaVersion } from './wire/media-messages';

export interface OnvifProfileReport extends MediaProfile {
  /** RTSP URI without credentials, null when the device gave none */
  streamUri: string | null;
  snapshotUri: string | null;
}

export interface OnvifDeviceReport {
  deviceUrl: string;
  device: { manufacturer: string; model: string; firmware: string; serial: string };
  profiles: OnvifProfileReport[];
  /** the chosen JPEG profile's stream URI, null when there is none */
  jpegStreamUri: string | null;
  jpegProfileToken: string | null;
  /** why there is no JPEG stream URI (null when there is one) */
  reason: string | null;
  /** device clock minus ours, ms */
  clockOffsetMs: number;
  services: ServiceAddresses;
  /** the media service version the profiles came from */
  media: MediaVersion;
}

export interface QueryOptions extends SoapClientOptions {
  maxWidth?: number | undefined;
  maxHeight?: number | undefined;
  /** profiles whose URIs are asked for (default 32) */
  maxProfiles?: number | undefined;
}

/** Measures the device's clock minus ours (ms) with one PRE_AUTH GetSystemDateAndTime. */
export async function measureClockOffset(client: SoapClient, deviceUrl: string, now: () => number = Date.now): Promise<number> {
  const t0 = now();
  let res;
  try {
    res = await client.call(deviceUrl, 'GetSystemDateAndTime', ACTIONS.getSystemDateAndTime, getSystemDateAndTimeBody(), { auth: false });
  } catch (e) {
    // a device that wants credentials even for this PRE_AUTH call: ask again with them (HTTP
    // Digest does not depend on the clock; a token may still pass within the device's window)
    if (!(e instanceof CameraError) || e.reason !== 'auth failed' || !client.hasCredentials) throw e;
    res = await client.call(deviceUrl, 'GetSystemDateAndTime', ACTIONS.getSystemDateAndTime, getSystemDateAndTimeBody());
  }
  const t1 = now();
  const device = parseSystemDateAndTime(res.body) ?? res.httpDate;
  if (device === null) return 0;
  // the device's clock reads whole seconds (its true time is within the next second: +500 ms
  // on average), compared with the middle of the exchange
  return Math.round(device + 500 - (t0 + t1) / 2);
}

/** Service addresses: GetServices, falling back to GetCapabilities. Relative to `deviceUrl` when the device leaves them out. */
export async function serviceAddresses(client: SoapClient, deviceUrl: string): Promise<ServiceAddresses> {
  let services: ServiceAddresses | null = null;
  try {
    services = parseServices((await client.call(deviceUrl, 'GetServices', ACTIONS.getServices, getServicesBody())).body);
  } catch (e) {
    if (e instanceof CameraError && (e.reason === 'auth failed' || e.reason === 'timeout' || e.reason === 'connection refused' || e.reason === 'host not found' || e.reason === 'network unreachable')) throw e;
  }
  if (!services || (!services.media && !services.media2 && !services.events)) {
    const caps = parseCapabilities((await client.call(deviceUrl, 'GetCapabilities', ACTIONS.getCapabilities, getCapabilitiesBody())).body);
    services = { device: services?.device ?? caps.device, media: caps.media, media2: services?.media2 ?? null, events: caps.events };
  }
  return services;
}

const isAuth = (e: unknown): boolean => e instanceof CameraError && e.reason === 'auth failed';

async function profilesOf(client: SoapClient, services: ServiceAddresses): Promise<{ version: MediaVersion; url: string; profiles: MediaProfile[] }> {
  const tries: [MediaVersion, string][] = [];
  if (services.media2) tries.push([2, services.media2]);
  if (services.media) tries.push([1, services.media]);
  if (tries.length === 0) throw new CameraError('not found', 'the device lists no media service (it may not be a camera)');
  let last: unknown = null;
  for (const [v, url] of tries) {
    try {
      const res = await client.call(url, v === 2 ? 'Media2 GetProfiles' : 'GetProfiles', MEDIA_ACTIONS[v].getProfiles, getProfilesBody(v));
      return { version: v, url, profiles: parseProfiles(v, res.body) };
    } catch (e) {
      // a Media 2 service that fails (some firmware lists it but answers nothing): try Media
      if (isAuth(e)) throw e;
      last = e;
    }
  }
  throw last instanceof CameraError ? last : new CameraError('protocol error', String(last));
}

async function uriOf(client: SoapClient, v: MediaVersion, url: string, operation: 'GetStreamUri' | 'GetSnapshotUri', body: string): Promise<string | null> {
  try {
    const res = await client.call(url, operation, MEDIA_ACTIONS[v][operation === 'GetStreamUri' ? 'getStreamUri' : 'getSnapshotUri'], body);
    const uri = parseUri(v, res.body);
    return uri === null ? null : withoutCredentials(uri);
  } catch (e) {
    if (isAuth(e)) throw e;
    return null;
  }
}

/**
 * Queries one device. Rejects with a CameraError when the device cannot be reached, refuses
 * the credentials, or has no media service; a device without a JPEG profile resolves with
 * `jpegStreamUri: null` and the reason.
 */
export async function queryDevice(deviceUrl: string, opts: QueryOptions = {}): Promise<OnvifDeviceReport> {
  const client = new SoapClient(opts);
  try {
    client.clockOffsetMs = await measureClockOffset(client, deviceUrl, opts.now);
    const services = await serviceAddresses(client, deviceUrl);
    let info = { manufacturer: '', model: '', firmware: '', serial: '' };
    try {
      const d = parseDeviceInformation((await client.call(deviceUrl, 'GetDeviceInformation', ACTIONS.getDeviceInformation, getDeviceInformationBody())).body);
      info = { manufacturer: d.manufacturer, model: d.model, firmware: d.firmware, serial: d.serial };
    } catch (e) {
      if (isAuth(e)) throw e;
    }
    const media = await profilesOf(client, services);
    const profiles: OnvifProfileReport[] = [];
    for (const p of media.profiles.slice(0, opts.maxProfiles ?? 32)) {
      const streamUri = await uriOf(client, media.version, media.url, 'GetStreamUri', getStreamUriBody(media.version, p.token));
      const snapshotUri = await uriOf(client, media.version, media.url, 'GetSnapshotUri', getSnapshotUriBody(media.version, p.token));
      profiles.push({ ...p, streamUri, snapshotUri });
    }
    const choice = chooseJpegProfile(profiles, { maxWidth: opts.maxWidth, maxHeight: opts.maxHeight });
    let reason = choice.reason;
    if (choice.profile && !choice.profile.streamUri) reason = `the Motion-JPEG profile ${choice.profile.token} has no RTSP stream URI`;
    return {
      deviceUrl,
      device: info,
      profiles,
      jpegStreamUri: choice.profile?.streamUri ?? null,
      jpegProfileToken: choice.profile?.token ?? null,
      reason,
      clockOffsetMs: client.clockOffsetMs,
      services,
      media: media.version,
    };
  } finally {
    client.close();
  }
}
