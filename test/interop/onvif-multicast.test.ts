/**
 * WS-Discovery by multicast (ONVIF Core §7; 239.255.255.250:3702), proven across a link: the
 * demo camera and a second device in one network namespace, our discover() with its defaults
 * in another, joined by a veth pair (test/peers/onvif-netns-discovery.ts runs both halves and
 * records). discover() must find both devices from the Probe it multicasts on the interface
 * that can, de-duplicated, and read the demo camera's JPEG profile over the link; Debian's
 * onvif-util, multicasting its own Probe from the client side, must find the demo camera too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { DiscoveryResult } from '../../src/onvif/discovery';
import type { OnvifDeviceReport } from '../../src/onvif/device';

const HALVES = join(__dirname, '..', 'peers', 'onvif-netns-discovery.ts');

interface Result {
  found: DiscoveryResult;
  profiles: OnvifDeviceReport | { error: string } | null;
  onvifUtil: string | null;
  camera: { url: string; deviceUrl: string; endpoint: string; probes: number };
  other: { probes: number };
}

function netnsUnavailable(): string | null {
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link set lo up && ip link add veth0 type veth peer name veth1 && unshare -n true'], { encoding: 'utf8', timeout: 10000 });
  if (r.error) return `cannot run unshare/ip (${r.error.message}): apt-get install util-linux iproute2`;
  if (r.status !== 0) return `cannot create a network namespace with a veth pair (unshare -rn; needs root or unprivileged user namespaces): ${r.stderr.trim()}`;
  return null;
}

function runHalves(): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-rn', process.execPath, '--import', 'tsx', HALVES, 'devices'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 50000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) { reject(new Error(`namespace run failed (${code ?? signal}): ${stderr.trim()}`)); return; }
      try { resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as Result); } catch (e) { reject(new Error(`bad output ${stdout.slice(-500)}: ${String(e)}`)); }
    });
  });
}

test('multicast discovery across a veth link: both devices found, the demo camera\'s JPEG profile read; onvif-util finds it too', async (t) => {
  const why = netnsUnavailable();
  if (why) {
    if (process.env.REQUIRE_PEERS === '1') throw new Error(`${why} (REQUIRE_PEERS=1)`);
    t.skip(why);
    return;
  }
  const r = await runHalves();
  const names = r.found.devices.map((d) => d.name).sort();
  assert.deepEqual(names, ['Second Camera', 'demo camera'], JSON.stringify(r.found));
  const demo = r.found.devices.find((d) => d.name === 'demo camera')!;
  assert.equal(demo.address, '10.99.1.1');
  assert.equal(demo.deviceUrl, r.camera.deviceUrl);
  assert.equal(demo.endpoint, r.camera.endpoint);
  assert.deepEqual([r.found.malformed, r.found.ignored, r.found.truncated], [0, 0, false]);
  // two probe types, each sent twice, from each interface that can multicast (veth1; lo has no route to the group here)
  assert.ok(r.camera.probes >= 4 && r.other.probes >= 4, `probes seen: camera ${r.camera.probes}, other ${r.other.probes}`);
  const p = r.profiles as OnvifDeviceReport;
  assert.equal(p.jpegStreamUri, r.camera.url, JSON.stringify(r.profiles));
  if (r.onvifUtil === null) {
    t.diagnostic('onvif-util not installed: its half of the check was not run');
    if (process.env.REQUIRE_PEERS === '1') throw new Error('onvif-util missing (REQUIRE_PEERS=1): apt-get install onvif-tools');
  } else {
    t.diagnostic(`onvif-util -a: ${r.onvifUtil.trim().replace(/\n/g, ' | ')}`);
    assert.match(r.onvifUtil, /10\.99\.1\.1 .*demo camera/);
  }
});
