/**
 * queryDevice (src/onvif/device.ts) against every device emulation (test/peers/onvif-devices.ts):
 * the JPEG stream URI (or the H.264-only reason), the clock offset, the authentication each
 * device asks for (WS-Security token, HTTP Digest), Media 2 where offered, GetCapabilities where
 * GetServices is missing, credentials kept out of URIs and messages, and the failures.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { queryDevice } from '../../src/onvif/device';
import { SoapClient } from '../../src/onvif/soap-client';
import { CameraError } from '../../src/errors';
import { startDevice, PASSWORD, USERNAME, type DeviceName } from '../peers/onvif-devices';
import { closeAfter } from '../support/cleanup';

const creds = { username: USERNAME, password: PASSWORD };

async function failure(p: Promise<unknown>): Promise<CameraError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CameraError, String(e));
    return e;
  }
  assert.fail('expected a failure');
}

describe('queryDevice against the device emulations', () => {
  const expected: Record<DeviceName, { jpeg: string | null; media: 1 | 2; auth: 'token' | 'digest' }> = {
    media2Only: { jpeg: '/Streaming/Channels/102', media: 2, auth: 'token' },
    wsSecurityOnly: { jpeg: '/axis-media/media.amp?videocodec=jpeg', media: 1, auth: 'token' },
    digestOnly: { jpeg: '/Streaming/Channels/102?transportmode=unicast&profile=Profile_2', media: 1, auth: 'digest' },
    h264Only: { jpeg: null, media: 1, auth: 'token' },
    clockOff: { jpeg: '/video.mjpg', media: 1, auth: 'token' },
    oddPrefixes: { jpeg: '/live/mjpeg', media: 2, auth: 'token' },
    defaultNamespaces: { jpeg: '/mjpeg/1', media: 1, auth: 'token' },
  };

  for (const [name, want] of Object.entries(expected) as [DeviceName, (typeof expected)[DeviceName]][]) {
    test(`${name}: profiles, JPEG stream URI, authentication`, async (t) => {
      const d = closeAfter(t, await startDevice(name, 8554));
      const r = await queryDevice(d.deviceUrl, creds);
      assert.equal(r.jpegStreamUri, want.jpeg === null ? null : `rtsp://127.0.0.1:8554${want.jpeg}`);
      assert.equal(r.media, want.media);
      assert.equal(r.profiles.length, d.b.profiles.length);
      for (const p of r.profiles) {
        const e = d.b.profiles.find((q) => q.token === p.token)!;
        assert.deepEqual([p.encoding, p.width, p.height, p.fps], [e.encoding, e.width, e.height, e.fps]);
        assert.equal(p.streamUri, `rtsp://127.0.0.1:8554${e.path}`, 'no credentials in a stream URI, even from a device that puts them in');
        assert.equal(p.snapshotUri, `${d.base()}/onvif/snapshot/${p.token}.jpg`);
      }
      assert.equal(r.device.model, d.b.model);
      const authed = d.counters.requests.filter((q) => q.op === 'GetProfiles' && q.status === 200);
      assert.deepEqual(authed.map((q) => q.auth), [want.auth], JSON.stringify(d.counters.requests));
      if (name === 'h264Only') {
        assert.equal(r.reason, 'no Motion-JPEG profile: the camera offers H264 1920x1080, H264 640x360; enable MJPEG on a sub-stream in its web page');
        assert.ok(r.profiles.every((p) => p.snapshotUri), 'the snapshot URIs are still reported');
      }
      assert.ok(!JSON.stringify(r).includes(PASSWORD) && !JSON.stringify(r).includes(encodeURIComponent(PASSWORD)));
    });
  }

  test('a clock an hour off: the offset is measured and the tokens pass the device\'s ±5 s window', async (t) => {
    const d = closeAfter(t, await startDevice('clockOff'));
    const r = await queryDevice(d.deviceUrl, creds);
    assert.ok(Math.abs(r.clockOffsetMs - 3600_000) < 1500, `offset ${r.clockOffsetMs}`);
    assert.equal(d.counters.authFailures, 0);
  });

  test('the clock offset matters: with it forced to 0 the same device refuses the token', async (t) => {
    const d = closeAfter(t, await startDevice('clockOff'));
    const client = new SoapClient({ ...creds, clockOffsetMs: 0 });
    t.after(() => client.close());
    const e = await failure(client.call(d.deviceUrl, 'GetDeviceInformation', 'urn:a', '<tds:GetDeviceInformation xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/>'));
    assert.equal(e.reason, 'auth failed');
  });

  test('Digest: one 401 for the whole query, then the challenge is reused (nc counts up)', async (t) => {
    const d = closeAfter(t, await startDevice('digestOnly'));
    await queryDevice(d.deviceUrl, creds);
    assert.equal(d.counters.requests.filter((q) => q.status === 401).length, 1, JSON.stringify(d.counters.requests));
  });

  for (const name of ['wsSecurityOnly', 'digestOnly', 'media2Only'] as DeviceName[]) {
    test(`${name}: a wrong password is 'auth failed', without the password in the message`, async (t) => {
      const d = closeAfter(t, await startDevice(name));
      const e = await failure(queryDevice(d.deviceUrl, { username: USERNAME, password: 'wrong-secret' }));
      assert.equal(e.reason, 'auth failed');
      assert.ok(!e.message.includes('wrong-secret'), e.message);
      const none = await failure(queryDevice(d.deviceUrl, {}));
      assert.equal(none.reason, 'auth failed');
      assert.match(none.message, /user name and password|NotAuthorized/);
    });
  }

  test('nothing listening: connection refused; not an ONVIF server: a clear reason', async (t) => {
    const refused = await failure(queryDevice('http://127.0.0.1:1/onvif/device_service', { timeoutMs: 3000 }));
    assert.equal(refused.reason, 'connection refused');
    const d = closeAfter(t, await startDevice('h264Only'));
    const wrongPath = await failure(queryDevice(`${d.base()}/nothing-here`, creds));
    assert.ok(['not found', 'protocol error'].includes(wrongPath.reason), wrongPath.message);
  });
});
