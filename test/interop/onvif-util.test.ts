/**
 * Debian's onvif-util (onvif-tools, libonvif 1.4.4: WS-Discovery, WS-Security, Media, XPath
 * over libxml2 with registered namespaces) against every device emulation and the demo camera:
 * an independent client's view of whether the emulations answer as devices do. onvif-util only
 * talks to devices it discovers by multicast on UDP 3702, so each run happens in a network
 * namespace the test makes (`unshare -rn`, loopback only, a multicast route), where the fixed
 * port and the multicast stay private. test/peers/onvif-util-session.ts runs onvif-util and
 * records; this file judges, and reports what onvif-util saw.
 *
 * libonvif 1.4.4 has neither HTTP Digest nor Media 2: against the Digest-only and the
 * Media-2-only emulations it fails, and the test checks that it fails for exactly that reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DEVICES, type DeviceName } from '../peers/onvif-devices';

const SESSION = join(__dirname, '..', 'peers', 'onvif-util-session.ts');

interface Seen { name: string; all: string | null; session: string; deviceUrl: string; requests: string[] }

function unavailable(): string | null {
  if (spawnSync('onvif-util', ['-h'], { stdio: 'ignore' }).error) return 'onvif-util missing: apt-get install onvif-tools';
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link set lo up && ip route add 224.0.0.0/4 dev lo'], { encoding: 'utf8', timeout: 10000 });
  if (r.error) return `cannot run unshare/ip (${r.error.message}): apt-get install util-linux iproute2`;
  if (r.status !== 0) return `cannot create a network namespace (unshare -rn; needs root or unprivileged user namespaces): ${r.stderr.trim()}`;
  return null;
}

function runInNamespace(names: string[]): Promise<Seen[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-rn', 'sh', '-c', `ip link set lo up && ip route add 224.0.0.0/4 dev lo && exec "${process.execPath}" --import tsx "${SESSION}" "$@"`, 'sh', ...names],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 50000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) { reject(new Error(`namespace run failed (${code ?? signal}): ${err}`)); return; }
      try { resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Seen[]); } catch (e) { reject(new Error(`bad output ${out.slice(-500)}: ${String(e)}`)); }
    });
  });
}

const lines = (s: string): string[] => s.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);

test('onvif-util finds and queries the emulations and the demo camera (Digest-only and Media-2-only: its known limits)', async (t) => {
  const why = unavailable();
  if (why) {
    if (process.env.REQUIRE_PEERS === '1') throw new Error(`${why} (REQUIRE_PEERS=1)`);
    t.skip(why);
    return;
  }
  const names = [...Object.keys(DEVICES), 'demo'];
  const seen = await runInNamespace(names);
  assert.deepEqual(seen.map((s) => s.name), names);
  // discovery: onvif-util -a lists the first device by its hostname and scopes
  assert.match(seen[0]!.all ?? '', /Found 1 cameras\n127\.0\.0\.1 emulated-camera\(PT-M2\)/);
  for (const s of seen) {
    const out = lines(s.session);
    t.diagnostic(`${s.name}: ${out.filter((l) => !/_service:/.test(l)).join(' | ')}`);
    assert.equal(out[0], 'found host: 127.0.0.1', `${s.name}: found by WS-Discovery`);
    if (s.name === 'digestOnly') {
      // libonvif sends a UsernameToken only; the Digest-only device answers 401
      assert.ok(s.requests.includes('GetDeviceInformation:token:401'), s.requests.join(' '));
      assert.match(s.session, /ERROR: get device information/);
      continue;
    }
    assert.ok(out.includes('successfully connected to host'), `${s.name}: ${s.session}`);
    if (s.name === 'media2Only') {
      // no ver10 media service: libonvif has no profiles to list
      assert.ok(!out.some((l) => l.startsWith('Token 0:')), s.session);
      continue;
    }
    const profiles = s.name === 'demo' ? ['demo_jpeg', 'demo_h264'] : DEVICES[s.name as DeviceName].profiles.map((p) => p.token);
    assert.deepEqual(out.filter((l) => l.startsWith('Token ')), profiles.map((p, i) => `Token ${i}: ${p}`), `${s.name}: profile tokens`);
    const first = s.name === 'demo' ? '/demo' : DEVICES[s.name as DeviceName].profiles[0]!.path;
    const rtsp = out.find((l) => l.startsWith('rtsp://'));
    assert.ok(rtsp?.endsWith(first), `${s.name}: stream URI ${rtsp} for ${first}`);
    if (s.name !== 'demo') assert.ok(s.requests.includes('GetProfiles:token:200') && s.requests.includes('GetStreamUri:token:200'), s.requests.join(' '));
  }
});
