/**
 * The npm `onvif` package (0.8, an independent ONVIF client: xml2js with prefixes stripped,
 * WS-Security, HTTP Digest, Media 2) against every device emulation and the demo camera, on
 * 127.0.0.1: it connects, lists the same profiles and stream URIs our client reads, and receives
 * events from the emulated pull points. What it saw is reported per device. One difference is
 * by design: it matches elements by local name only, so on the device with a vendor element
 * named Encoding next to ONVIF's it reads both; our client reads ONVIF's alone.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { DEVICES, startDevice, PASSWORD, USERNAME, type DeviceName } from '../peers/onvif-devices';
import { queryDevice } from '../../src/onvif/device';
import { withoutCredentials } from '../../src/onvif/device-url';
import { startDemoCamera } from '../../src/sim/demo-camera';
import { closeAfter } from '../support/cleanup';

const req = createRequire(__filename);

interface CamLike {
  profiles: Record<string, unknown>[];
  media2Support?: boolean;
  connect(cb: (err: Error | null) => void): void;
  getStreamUri(o: { protocol: string; profileToken: string }, cb: (err: Error | null, uri: { uri: string }) => void): void;
  getDeviceInformation(cb: (err: Error | null, info: { model: string }) => void): void;
  on(ev: string, cb: (m: unknown) => void): void;
  removeAllListeners(ev: string): void;
}

function loadOnvif(): { Cam: new (o: Record<string, unknown>) => CamLike } | null {
  try { return req('onvif') as { Cam: new (o: Record<string, unknown>) => CamLike }; } catch { return null; }
}

const token = (p: Record<string, unknown>): string => String((p['$'] as { token?: string } | undefined)?.token ?? p['token']);
const encoding = (p: Record<string, unknown>): string => {
  const e = (p['videoEncoderConfiguration'] as { encoding?: unknown } | undefined)?.encoding ?? ((p['configurations'] as { videoEncoder?: { encoding?: unknown } } | undefined)?.videoEncoder?.encoding);
  return Array.isArray(e) ? e.join(',') : String(e);
};

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
}

async function connect(Cam: new (o: Record<string, unknown>) => CamLike, port: number, username = USERNAME, password = PASSWORD): Promise<CamLike> {
  const cam = new Cam({ hostname: '127.0.0.1', port, username, password, timeout: 5000, autoconnect: false });
  await withTimeout(new Promise<void>((resolve, reject) => cam.connect((e) => (e ? reject(e) : resolve()))), 8000, 'connect');
  return cam;
}

describe('the npm onvif client against the emulations', () => {
  const onvif = loadOnvif();
  const skip = (t: { skip(m: string): void }): boolean => {
    if (onvif) return false;
    if (process.env.REQUIRE_PEERS === '1') throw new Error('the onvif dev dependency is missing (REQUIRE_PEERS=1)');
    t.skip('the onvif dev dependency is missing: npm install');
    return true;
  };

  for (const name of Object.keys(DEVICES) as DeviceName[]) {
    test(`${name}: same profiles, encodings and JPEG stream URI as our client`, async (t) => {
      if (skip(t)) return;
      const d = closeAfter(t, await startDevice(name, 8554));
      const cam = await connect(onvif!.Cam, d.port);
      const theirs = cam.profiles.map((p) => [token(p), encoding(p)]);
      const ours = await queryDevice(d.deviceUrl, { username: USERNAME, password: PASSWORD });
      const info = await new Promise<{ model: string }>((resolve, reject) => cam.getDeviceInformation((e, i) => (e ? reject(e) : resolve(i))));
      const target = ours.jpegProfileToken ?? ours.profiles[0]!.token;
      const uri = await new Promise<string>((resolve, reject) => cam.getStreamUri({ protocol: 'RTSP', profileToken: target }, (e, u) => (e ? reject(e) : resolve(u.uri))));
      t.diagnostic(`${name}: media2=${String(cam.media2Support)} model=${info.model} profiles=${JSON.stringify(theirs)} streamUri(${target})=${withoutCredentials(uri)}`);
      assert.equal(info.model, d.b.model);
      assert.deepEqual(theirs.map(([tk]) => tk), ours.profiles.map((p) => p.token));
      const oursEnc = ours.profiles.map((p) => p.encoding);
      if (name === 'oddPrefixes') {
        // local-name matching reads the vendor's Encoding too
        assert.deepEqual(theirs.map(([, e]) => e), oursEnc.map((e) => `H265,${e}`));
      } else {
        assert.deepEqual(theirs.map(([, e]) => e), oursEnc);
      }
      assert.equal(withoutCredentials(uri), ours.profiles.find((p) => p.token === target)!.streamUri);
      assert.equal(!!cam.media2Support, name === 'media2Only' || name === 'oddPrefixes');
    });
  }

  for (const name of ['wsSecurityOnly', 'digestOnly', 'demo'] as const) {
    test(`${name}: its pull point delivers a motion event to the npm client`, async (t) => {
      if (skip(t)) return;
      let port: number;
      let raise: () => void;
      let counters: () => { unsubscribed: number };
      if (name === 'demo') {
        const c = closeAfter(t, await startDemoCamera({ onvif: { discoveryPort: null, motionEverySec: 0 } }));
        port = c.onvif!.port;
        raise = () => c.onvif!.setMotion(true);
        counters = () => ({ unsubscribed: c.onvif!.stats.unsubscribes });
      } else {
        const d = closeAfter(t, await startDevice(name));
        port = d.port;
        raise = () => d.pullPoints!.raise('tns1:RuleEngine/CellMotionDetector/Motion', { Rule: 'r' }, { IsMotion: 'true' });
        counters = () => d.pullPoints!.counters;
      }
      const cam = await connect(onvif!.Cam, port);
      const got = withTimeout(new Promise<unknown>((resolve) => cam.on('event', resolve)), 8000, 'event');
      const timer = setInterval(raise, 300);
      const ev = await got.finally(() => clearInterval(timer));
      cam.removeAllListeners('event');
      const j = JSON.stringify(ev);
      t.diagnostic(`${name}: ${j.slice(0, 300)}`);
      assert.match(j, /tns1:RuleEngine\/CellMotionDetector\/Motion/);
      assert.match(j, /"Name":"IsMotion","Value":true/);
      // it unsubscribes when the last listener goes
      await withTimeout((async () => { while (counters().unsubscribed < 1) await new Promise((r) => setTimeout(r, 50)); })(), 8000, 'Unsubscribe');
    });
  }
});
