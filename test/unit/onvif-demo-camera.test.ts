/**
 * The demo camera's ONVIF side (src/sim/onvif-*.ts): device and media services with one JPEG
 * profile (its own RTSP URL) and one H.264 profile, credentials as ONVIF Core §5.9.1 asks
 * (401 without, token or Digest with), a snapshot that decodes, events for the `onvif events`
 * node, and the `demo-camera` command line printing the device-service URL.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { startDemoCamera } from '../../src/sim/demo-camera';
import { queryDevice } from '../../src/onvif/device';
import { PullPointSubscription, type OnvifEvent } from '../../src/onvif/events';
import { Authenticator } from '../../src/rtsp/auth';
import { CameraError } from '../../src/errors';
import { closeAfter } from '../support/cleanup';
import { until } from '../support/node-red-helper-lite';

function http(url: string, method: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { 'content-type': 'application/soap+xml', ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const GET_INFO = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>';

describe('demo camera: ONVIF', () => {
  test('without auth: the JPEG profile is the camera\'s own RTSP URL, the H.264 one is listed too', async (t) => {
    const cam = closeAfter(t, await startDemoCamera({ width: 320, height: 240, fps: 10, onvif: { discoveryPort: null, motionEverySec: 0 } }));
    const r = await queryDevice(cam.onvif!.deviceUrl);
    assert.equal(r.jpegStreamUri, cam.url);
    assert.deepEqual(r.profiles.map((p) => [p.token, p.encoding, p.width, p.height, p.fps]), [['demo_jpeg', 'JPEG', 320, 240, 10], ['demo_h264', 'H264', 1920, 1080, 25]]);
    assert.equal(r.device.model, 'demo camera');
    const snap = await http(r.profiles[0]!.snapshotUri!, 'GET', '');
    assert.equal(snap.status, 200);
    const img = jpeg.decode(snap.body);
    assert.deepEqual([img.width, img.height], [320, 240]);
  });

  test('with Digest on the camera: no credentials → 401; a WS-Security token or HTTP Digest both pass; a wrong token → NotAuthorized', async (t) => {
    const cam = closeAfter(t, await startDemoCamera({ auth: 'digest', username: 'viewer', password: 's3cr:t', onvif: { discoveryPort: null, motionEverySec: 0 } }));
    const url = cam.onvif!.deviceUrl;
    await assert.rejects(queryDevice(url), (e: unknown) => e instanceof CameraError && e.reason === 'auth failed');
    await assert.rejects(queryDevice(url, { username: 'viewer', password: 'nope' }), (e: unknown) => e instanceof CameraError && e.reason === 'auth failed');
    const r = await queryDevice(url, { username: 'viewer', password: 's3cr:t' });
    assert.equal(r.jpegStreamUri, cam.url);
    // HTTP Digest by hand: 401 with the camera's challenge, then 200
    const first = await http(url, 'POST', GET_INFO);
    assert.equal(first.status, 401);
    const a = new Authenticator('viewer', 's3cr:t');
    assert.equal(a.onChallenge([String(first.headers['www-authenticate'])]), 'retry');
    const second = await http(url, 'POST', GET_INFO, { authorization: a.authorization('POST', '/onvif/device_service')! });
    assert.equal(second.status, 200);
    assert.match(second.body.toString(), /<tds:Model>demo camera<\/tds:Model>/);
    const snap = await http(r.profiles[0]!.snapshotUri!, 'GET', '');
    assert.equal(snap.status, 401, 'the snapshot needs the credentials too');
  });

  test('events: a motion event on setMotion, renewals, Unsubscribe on close; the scripted motion too', async (t) => {
    const cam = closeAfter(t, await startDemoCamera({ onvif: { discoveryPort: null, motionEverySec: 1 } }));
    const sub = new PullPointSubscription(cam.onvif!.deviceUrl, { terminationSec: 2, pullTimeoutSec: 1 });
    t.after(() => sub.close());
    const events: OnvifEvent[] = [];
    sub.on('event', (e: OnvifEvent) => events.push(e));
    sub.start();
    await until(() => events.filter((e) => e.payload.state === true).length >= 1 && events.filter((e) => e.payload.state === false).length >= 1, 'scripted motion on and off', 6000);
    const e = events.find((x) => x.payload.state === true)!;
    assert.equal(e.topic, 'tns1:RuleEngine/CellMotionDetector/Motion');
    assert.deepEqual(e.payload.source, { VideoSourceConfigurationToken: 'vsc0', VideoAnalyticsConfigurationToken: 'vac0', Rule: 'MyMotionDetectorRule' });
    assert.ok(cam.onvif!.stats.renewals >= 1, 'renewed');
    await sub.close();
    assert.equal(cam.onvif!.stats.unsubscribes, 1);
    assert.equal(cam.onvif!.stats.activeSubscriptions, 0);
  });

  test('close() releases the ONVIF port', async () => {
    const cam = await startDemoCamera({ onvif: { discoveryPort: 0, motionEverySec: 5 } });
    const url = cam.onvif!.deviceUrl;
    await cam.close();
    await assert.rejects(http(url, 'POST', GET_INFO), /ECONNREFUSED/);
  });

  test('`rtsp-mjpeg demo-camera` prints the ONVIF device-service URL after the RTSP one', async (t) => {
    const script = `require(${JSON.stringify(join(__dirname, '../../src/sim/cli-entry.ts'))}).runDemoCameraCli(['--port','0','--width','64','--height','48'])`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await until(() => /demo camera ONVIF: /.test(out), 'the ONVIF line', 15000);
    assert.match(out, /^demo camera: rtsp:\/\/127\.0\.0\.1:\d+\/demo\ndemo camera ONVIF: http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service \(WS-Discovery on UDP \d+\)$/m);
    child.kill('SIGTERM');
    assert.equal(await new Promise<number | null>((r) => child.once('exit', (c) => r(c))), 0);
  });
});
