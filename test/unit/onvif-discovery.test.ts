/**
 * discover() (src/onvif/discovery.ts) on 127.0.0.1: unicast Probes to named hosts, both probe
 * types sent twice, replies de-duplicated by endpoint, misbehaving responders (a reply to
 * another client's Probe, garbage, a datagram over the size bound, a flood of devices) bounded
 * and counted; the demo camera's responder answers unicast and multicast on the loopback
 * interface. Multicast between hosts is proven in a network namespace
 * (test/interop/onvif-multicast.test.ts).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { discover, parseHostPort } from '../../src/onvif/discovery';
import { startDemoCamera } from '../../src/sim/demo-camera';
import { DiscoveryResponder, type ResponderOptions } from '../peers/onvif-discovery-responder';
import { closeAfter } from '../support/cleanup';

const DEV_A = { endpoint: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000001', xaddrs: ['http://10.1.2.3/onvif/device_service', 'http://127.0.0.1/onvif/device_service'],
  scopes: ['onvif://www.onvif.org/name/Garage%20Cam', 'onvif://www.onvif.org/hardware/DS-2CD2143', 'onvif://www.onvif.org/Profile/Streaming'] };
const DEV_B = { endpoint: 'urn:uuid:bbbbbbbb-0000-0000-0000-000000000002', xaddrs: ['http://192.168.7.9:8080/onvif/device_service'],
  scopes: ['onvif://www.onvif.org/name/Porch', 'onvif://www.onvif.org/hardware/AXIS%20M1065'] };

async function responder(t: { after(fn: () => unknown): void }, o: ResponderOptions): Promise<DiscoveryResponder> {
  const r = await new DiscoveryResponder(o).start();
  t.after(() => r.close());
  return r;
}

describe('ONVIF discovery on 127.0.0.1', () => {
  test('unicast to named hosts: devices with name, hardware and the XAddr on the answering address; duplicates merged', async (t) => {
    const a = await responder(t, { devices: [DEV_A], repeat: 3 });
    const b = await responder(t, { devices: [DEV_B], envelope: 'soap11' });
    const r = await discover({ multicast: false, timeoutMs: 700, hosts: [{ host: '127.0.0.1', port: a.port }, { host: 'localhost', port: b.port }] });
    const byName = Object.fromEntries(r.devices.map((d) => [d.name, d]));
    assert.deepEqual(Object.keys(byName).sort(), ['Garage Cam', 'Porch']);
    assert.equal(byName['Garage Cam']!.hardware, 'DS-2CD2143');
    assert.equal(byName['Garage Cam']!.deviceUrl, 'http://127.0.0.1/onvif/device_service', 'the XAddr on the address that answered');
    assert.equal(byName['Porch']!.deviceUrl, 'http://192.168.7.9:8080/onvif/device_service');
    assert.equal(byName['Porch']!.hardware, 'AXIS M1065');
    assert.deepEqual(byName['Porch']!.types, ['dn:NetworkVideoTransmitter', 'tds:Device']);
    assert.equal(r.devices.length, 2, 'three copies of one answer are one device');
    // two probe types (dn:NetworkVideoTransmitter, tds:Device), each sent twice (SOAP-over-UDP repeat)
    assert.equal(a.probes, 4);
    assert.deepEqual([r.malformed, r.ignored, r.problems], [0, 0, []]);
  });

  test('answers to someone else\'s Probe are ignored, garbage and oversize datagrams counted as malformed', async (t) => {
    const wrong = await responder(t, { devices: [DEV_A], mode: 'wrong-relates' });
    const junk = await responder(t, { devices: [], mode: 'garbage' });
    const big = await responder(t, { devices: [], mode: 'oversize' });
    const r = await discover({ multicast: false, timeoutMs: 700, maxReplyBytes: 16384, hosts: [wrong, junk, big].map((x) => ({ host: '127.0.0.1', port: x.port })) });
    assert.equal(r.devices.length, 0);
    assert.equal(r.ignored, 4, 'four answers with a foreign RelatesTo');
    assert.equal(r.malformed, 4 * 2 + 4, 'two garbage datagrams per probe, one oversize per probe');
  });

  test('a ProbeMatch flood: at most 256 devices, stopped early, bounded memory', async (t) => {
    const flood = await responder(t, { devices: [], mode: 'flood', floodCount: 1500 });
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    const r = await discover({ multicast: false, timeoutMs: 5000, hosts: [{ host: '127.0.0.1', port: flood.port }] });
    const ms = Date.now() - t0;
    assert.equal(r.devices.length, 256);
    assert.equal(r.truncated, true);
    assert.ok(ms < 5000, `stopped at the device bound, not the timeout (${ms} ms)`);
    assert.ok(process.memoryUsage().heapUsed - heap0 < 64 * 1024 * 1024, 'heap growth under 64 MiB');
    const capped = await discover({ multicast: false, timeoutMs: 800, maxDatagrams: 50, hosts: [{ host: '127.0.0.1', port: flood.port }] });
    assert.ok(capped.devices.length <= 50);
    assert.ok(capped.dropped > 0, 'datagrams past the bound are dropped unread');
  });

  test('the demo camera answers a unicast Probe and a multicast one on the loopback interface', async (t) => {
    const cam = closeAfter(t, await startDemoCamera({ onvif: { discoveryPort: 0, motionEverySec: 0 } }));
    const port = cam.onvif!.discoveryPort!;
    const uni = await discover({ multicast: false, timeoutMs: 600, hosts: [{ host: '127.0.0.1', port }] });
    assert.equal(uni.devices.length, 1);
    assert.equal(uni.devices[0]!.deviceUrl, cam.onvif!.deviceUrl);
    assert.equal(uni.devices[0]!.endpoint, cam.onvif!.endpoint);
    assert.equal(uni.devices[0]!.name, 'demo camera');
    const multi = await discover({ interfaces: ['127.0.0.1'], multicastPort: port, timeoutMs: 600 });
    assert.equal(multi.devices.length, 1, JSON.stringify(multi));
    assert.equal(multi.devices[0]!.deviceUrl, cam.onvif!.deviceUrl);
  });

  test('parseHostPort', () => {
    assert.deepEqual(parseHostPort('cam.local'), { host: 'cam.local', port: undefined });
    assert.deepEqual(parseHostPort(' 10.0.0.5:3703 '), { host: '10.0.0.5', port: 3703 });
    assert.deepEqual(parseHostPort('[fe80::1]:3702'), { host: 'fe80::1', port: 3702 });
    assert.equal(parseHostPort('a b'), null);
    assert.equal(parseHostPort('h:70000'), null);
  });
});
