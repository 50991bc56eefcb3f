/**
 * `rtsp-mjpeg discover` and `rtsp-mjpeg onvif` (src/onvif-cli.ts through src/cli.ts): the
 * --json shapes of the contract, the exit codes (0 with a JPEG profile, 1 without one or on
 * refused credentials, 2 on bad arguments), and no password in any output. Discovery is unicast
 * to 127.0.0.1 (--no-multicast): multicast is proven in a network namespace.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli';
import { startDemoCamera } from '../../src/sim/demo-camera';
import { startDevice, PASSWORD, USERNAME } from '../peers/onvif-devices';
import { DiscoveryResponder } from '../peers/onvif-discovery-responder';
import { closeAfter } from '../support/cleanup';

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('rtsp-mjpeg discover / onvif', () => {
  test('discover --json: an array of { xaddrs, scopes, name, hardware, endpoint }, from the demo camera and a device', async (t) => {
    const cam = closeAfter(t, await startDemoCamera({ onvif: { discoveryPort: 0, motionEverySec: 0 } }));
    const dev = await new DiscoveryResponder({ devices: [{ endpoint: 'urn:uuid:x-1', xaddrs: ['http://10.0.0.9/onvif/device_service'], scopes: ['onvif://www.onvif.org/name/Shed', 'onvif://www.onvif.org/hardware/IPC'] }] }).start();
    t.after(() => dev.close());
    const r = await run(['discover', '--no-multicast', '--timeout', '0.8', '--host', `127.0.0.1:${cam.onvif!.discoveryPort}`, '--host', `localhost:${dev.port}`, '--json']);
    assert.equal(r.code, 0, r.err);
    const list = JSON.parse(r.out) as Record<string, unknown>[];
    assert.equal(list.length, 2);
    for (const d of list) assert.deepEqual(Object.keys(d), ['xaddrs', 'scopes', 'name', 'hardware', 'endpoint']);
    const shed = list.find((d) => d['name'] === 'Shed')!;
    assert.deepEqual(shed, { xaddrs: ['http://10.0.0.9/onvif/device_service'], scopes: ['onvif://www.onvif.org/name/Shed', 'onvif://www.onvif.org/hardware/IPC'], name: 'Shed', hardware: 'IPC', endpoint: 'urn:uuid:x-1' });
    const demo = list.find((d) => d['name'] === 'demo camera')!;
    assert.deepEqual(demo['xaddrs'], [cam.onvif!.deviceUrl]);
  });

  test('discover (text): one line per device; none found still exits 0 and suggests --host', async (t) => {
    const dev = await new DiscoveryResponder({ devices: [{ endpoint: 'urn:uuid:x-2', xaddrs: ['http://127.0.0.1:8899/onvif/device_service'], scopes: ['onvif://www.onvif.org/name/Yard', 'onvif://www.onvif.org/hardware/HW9'] }] }).start();
    t.after(() => dev.close());
    const r = await run(['discover', '--no-multicast', '--timeout=0.6', '--host', `127.0.0.1:${dev.port}`]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Yard {2}hardware: HW9 {2}address: 127\.0\.0\.1 {2}http:\/\/127\.0\.0\.1:8899\/onvif\/device_service$/m);
    const none = await run(['discover', '--no-multicast', '--timeout', '0.3']);
    assert.equal(none.code, 0);
    assert.match(none.out, /no ONVIF device answered within 0\.3 s.*--host ADDRESS/);
    assert.equal((await run(['discover', '--host', 'bad host!'])).code, 2);
    assert.equal((await run(['discover', '--timeout', '-1'])).code, 2);
  });

  test('onvif --json: { device, profiles, jpegStreamUri, clockOffsetMs }, exit 0, no password printed', async (t) => {
    const d = closeAfter(t, await startDevice('digestOnly', 8554));
    const r = await run(['onvif', d.deviceUrl, '--username', USERNAME, '--json'], { RTSP_PASSWORD: PASSWORD });
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j), ['device', 'profiles', 'jpegStreamUri', 'clockOffsetMs']);
    assert.deepEqual(Object.keys(j['device'] as object), ['manufacturer', 'model', 'firmware', 'serial']);
    for (const p of j['profiles'] as Record<string, unknown>[]) assert.deepEqual(Object.keys(p), ['token', 'name', 'encoding', 'width', 'height', 'fps', 'streamUri', 'snapshotUri']);
    assert.equal(j['jpegStreamUri'], 'rtsp://127.0.0.1:8554/Streaming/Channels/102?transportmode=unicast&profile=Profile_2');
    assert.equal(typeof j['clockOffsetMs'], 'number');
    assert.ok(!r.out.includes(PASSWORD) && !r.err.includes(PASSWORD));
  });

  test('onvif host:port (text) with the password percent-encoded in the URL of a device that puts it into its URIs', async (t) => {
    const d = closeAfter(t, await startDevice('defaultNamespaces', 8554));
    const url = `http://${USERNAME}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${d.port}`;
    const r = await run(['onvif', url]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^device: Emulated WCF-NVT firmware .+ serial EMU0123456789$/m);
    assert.match(r.out, /^profile MJPEG_1 "MJPEG 1": JPEG 704x576 25 fps$/m);
    assert.match(r.out, /^Motion-JPEG stream: rtsp:\/\/127\.0\.0\.1:8554\/mjpeg\/1 {2}\(profile MJPEG_1\)$/m);
    assert.ok(!r.out.includes(PASSWORD) && !r.out.includes(encodeURIComponent(PASSWORD)), r.out);
  });

  test('onvif: an H.264-only camera exits 1 with the reason; the JSON still lists its profiles and snapshots', async (t) => {
    const d = closeAfter(t, await startDevice('h264Only'));
    const r = await run(['onvif', `127.0.0.1:${d.port}`, '--username', USERNAME, '--json'], { RTSP_PASSWORD: PASSWORD });
    assert.equal(r.code, 1);
    assert.equal(r.err, 'error: no Motion-JPEG profile: the camera offers H264 1920x1080, H264 640x360; enable MJPEG on a sub-stream in its web page');
    const j = JSON.parse(r.out) as { jpegStreamUri: unknown; profiles: { snapshotUri: string }[] };
    assert.equal(j.jpegStreamUri, null);
    assert.ok(j.profiles.every((p) => p.snapshotUri.startsWith('http://')));
  });

  test('onvif: refused credentials exit 1 without the password; bad arguments exit 2', async (t) => {
    const d = closeAfter(t, await startDevice('wsSecurityOnly'));
    const r = await run(['onvif', d.deviceUrl, '--username', USERNAME], { RTSP_PASSWORD: 'Secret-Wrong-1' });
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: auth failed: /);
    assert.ok(!(r.out + r.err).includes('Secret-Wrong-1'));
    const anon = await run(['onvif', d.deviceUrl]);
    assert.match(anon.err, /auth failed.*RTSP_PASSWORD/);
    assert.equal((await run(['onvif'])).code, 2);
    assert.equal((await run(['onvif', 'ftp://x/y'])).code, 2);
    const pw = await run(['onvif', d.deviceUrl, '--password', 'x']);
    assert.equal(pw.code, 2);
    assert.match(pw.err, /RTSP_PASSWORD/);
  });

  test('onvif against the demo camera: its JPEG profile is its own RTSP URL', async (t) => {
    const cam = closeAfter(t, await startDemoCamera({ onvif: { discoveryPort: null, motionEverySec: 0 } }));
    const r = await run(['onvif', cam.onvif!.deviceUrl, '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { jpegStreamUri: string; profiles: { encoding: string }[] };
    assert.equal(j.jpegStreamUri, cam.url);
    assert.deepEqual(j.profiles.map((p) => p.encoding), ['JPEG', 'H264']);
  });
});
