/**
 * ONVIF device emulations: how real devices differ, each written from the ONVIF specifications
 * and from device behaviour quoted in public ONVIF client projects and bug reports (the
 * `source` of each). They run on onvif-device.ts; the interop test queries every one of them
 * with independent ONVIF clients too (the npm `onvif` package, Debian's onvif-util), which is
 * how we know the emulations answer as devices do.
 */
import { OnvifDeviceEmulation, type DeviceBehaviour, type EmulatedProfile } from './onvif-device';

const p = (token: string, name: string, encoding: EmulatedProfile['encoding'], width: number, height: number, fps: number, path: string): EmulatedProfile =>
  ({ token, name, encoding, width, height, fps, path });

export const DEVICES = {
  /** Profile T camera with the Media 2 service only (Media 2 §4: a device may drop Media). */
  media2Only: {
    name: 'Media 2 only', source: 'ONVIF Media 2 Service Specification §5.1.2/§5.4.1; Profile T devices without ver10 media',
    style: 'gsoap', auth: 'either', clockOffsetMs: 0, media1: false, media2: true, getServices: true,
    profiles: [p('Profile_1', 'mainStream', 'H264', 1920, 1080, 25, '/Streaming/Channels/101'), p('Profile_2', 'mjpegStream', 'JPEG', 1280, 720, 15, '/Streaming/Channels/102')],
    events: { addressing: 'path', extendOnPull: true, maxTerminationSec: 600 },
    manufacturer: 'Emulated', model: 'PT-M2',
  },
  /** WS-Security UsernameToken only, Axis-style replies and events (SubscriptionId reference parameter, extended only on Renew). */
  wsSecurityOnly: {
    name: 'WS-Security only (Axis-style)', source: 'ONVIF Core §5.9.1 (token-only device: HTTP 400 + ter:NotAuthorized); Axis pull points as described in ONVIF client issue reports',
    style: 'axis', auth: 'ws-security', clockOffsetMs: 0, media1: true, media2: false, getServices: true,
    profiles: [p('profile_1_h264', 'profile_1 h264', 'H264', 1920, 1080, 30, '/axis-media/media.amp?videocodec=h264'), p('profile_1_jpeg', 'profile_1 jpeg', 'JPEG', 1920, 1080, 30, '/axis-media/media.amp?videocodec=jpeg'),
      p('profile_2_jpeg', 'profile_2 jpeg', 'JPEG', 640, 360, 30, '/axis-media/media.amp?videocodec=jpeg&resolution=640x360')],
    events: { addressing: 'reference-parameter', extendOnPull: false, maxTerminationSec: 3600 },
    manufacturer: 'Emulated', model: 'AX-Q1615',
  },
  /** HTTP Digest only (RFC 2617 qop=auth), WS-Security ignored, gSOAP-style namespaces. */
  digestOnly: {
    name: 'HTTP Digest only (gSOAP-style)', source: 'ONVIF Core §5.9.1 (Digest: 401 with a challenge); Hikvision-style replies quoted in public ONVIF projects',
    style: 'gsoap', auth: 'digest', clockOffsetMs: 0, media1: true, media2: false, getServices: true,
    profiles: [p('Profile_1', 'mainStream', 'H264', 2560, 1440, 25, '/Streaming/Channels/101?transportmode=unicast&profile=Profile_1'),
      p('Profile_2', 'subStream', 'JPEG', 640, 480, 10, '/Streaming/Channels/102?transportmode=unicast&profile=Profile_2')],
    events: { addressing: 'path', extendOnPull: true, maxTerminationSec: 600 },
    manufacturer: 'Emulated', model: 'DS-2CD2143',
  },
  /** H.264 only: no JPEG encoder enabled. */
  h264Only: {
    name: 'H.264 only', source: 'Profile S cameras as shipped with MJPEG off (user reports); Dahua-style stream paths',
    style: 'gsoap', auth: 'either', clockOffsetMs: 0, media1: true, media2: false, getServices: true,
    profiles: [p('MediaProfile000', 'MediaProfile_Channel1_MainStream', 'H264', 1920, 1080, 25, '/cam/realmonitor?channel=1&subtype=0&unicast=true&proto=Onvif'),
      p('MediaProfile001', 'MediaProfile_Channel1_SubStream1', 'H264', 640, 360, 15, '/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif')],
    events: null,
    manufacturer: 'Emulated', model: 'IPC-HDW2431',
  },
  /** A clock an hour ahead, tokens checked within ±5 s of it. */
  clockOff: {
    name: 'clock an hour off', source: 'ONVIF Core §8.3.6 (GetSystemDateAndTime is PRE_AUTH so clients can correct the token time)',
    style: 'axis', auth: 'ws-security', clockOffsetMs: 3600_000, maxSkewMs: 5000, media1: true, media2: false, getServices: true,
    profiles: [p('0', 'JPEG', 'JPEG', 1280, 960, 12, '/video.mjpg'), p('1', 'H264', 'H264', 1280, 960, 25, '/video.h264')],
    events: { addressing: 'path', extendOnPull: false, maxTerminationSec: 120 },
    manufacturer: 'Emulated', model: 'CLK-1H',
  },
  /** Unusual prefixes: ns0…, `tt` bound to a vendor namespace on the Envelope and re-bound to ONVIF's inside the body, a vendor Encoding element first. */
  oddPrefixes: {
    name: 'unusual namespace prefixes', source: 'XML Namespaces 1.0 §5 (prefixes are the device\'s choice); gSOAP servers with generated nsN prefixes',
    style: 'odd', auth: 'either', clockOffsetMs: 0, media1: true, media2: true, getServices: true,
    profiles: [p('token-a', 'Main', 'H264', 1920, 1080, 25, '/live/main'), p('token-b', 'Mjpeg', 'JPEG', 800, 600, 10, '/live/mjpeg')],
    events: { addressing: 'path', extendOnPull: true, maxTerminationSec: 600 },
    manufacturer: 'Emulated', model: 'ODD-NS',
  },
  /** Default namespaces only (WCF-style), an old device without GetServices, credentials in its stream URIs. */
  defaultNamespaces: {
    name: 'default namespaces, GetCapabilities only', source: 'ONVIF Core §8.1.2.4 (devices before GetServices); .NET/WCF servers writing xmlns="…" per element',
    style: 'default-ns', auth: 'either', clockOffsetMs: 0, media1: true, media2: false, getServices: false, credentialsInUri: true,
    profiles: [p('MJPEG_1', 'MJPEG 1', 'JPEG', 704, 576, 25, '/mjpeg/1'), p('H264_1', 'H264 1', 'H264', 1920, 1080, 25, '/h264/1')],
    events: { addressing: 'path', extendOnPull: true, maxTerminationSec: 600 },
    manufacturer: 'Emulated', model: 'WCF-NVT',
  },
} satisfies Record<string, DeviceBehaviour>;

export type DeviceName = keyof typeof DEVICES;

export const USERNAME = 'admin';
/** with characters that need escaping in XML and URLs */
export const PASSWORD = 'p@ss:w<rd>&1';

/** Starts one emulation on 127.0.0.1 (an ephemeral port); `overrides` change its behaviour for one test. */
export async function startDevice(name: DeviceName, rtspPort = 554, overrides: Partial<DeviceBehaviour> = {}): Promise<OnvifDeviceEmulation> {
  const d = new OnvifDeviceEmulation({ ...(DEVICES[name] as DeviceBehaviour), ...overrides }, USERNAME, PASSWORD);
  d.rtspPort = rtspPort;
  return d.start();
}
