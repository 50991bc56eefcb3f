/**
 * The two halves of the multicast discovery test (test/interop/onvif-multicast.test.ts), each in
 * a network namespace the test creates, joined by a veth pair, so no datagram leaves the machine:
 *
 *   device namespace (made by `unshare -rn`): veth0 10.99.1.1/24, route 224.0.0.0/4 via veth0;
 *     the demo camera on 10.99.1.1 answering WS-Discovery on UDP 3702, and a second device
 *     (a gSOAP-style responder) on the same port;
 *   client namespace (made here with `unshare -n`): veth1 10.99.1.2/24, route 224.0.0.0/4 via
 *     veth1; discover() with its defaults (a multicast Probe from every interface that can),
 *     then the demo camera's profiles over HTTP, then `onvif-util -a` when it is installed.
 *
 * `devices OUT`: the device half; prints the client half's JSON plus what the devices counted.
 * `client`: the client half; prints one JSON line. The parent test judges.
 */
import { spawn, spawnSync } from 'node:child_process';
import { startDemoCamera } from '../../src/sim/demo-camera';
import { discover } from '../../src/onvif/discovery';
import { queryDevice } from '../../src/onvif/device';
import { DiscoveryResponder } from './onvif-discovery-responder';

export const DEVICE_ADDRESS = '10.99.1.1';
const CLIENT_ADDRESS = '10.99.1.2';

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
}

async function devicesHalf(): Promise<void> {
  sh('ip', ['link', 'set', 'lo', 'up']);
  sh('ip', ['link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1']);
  sh('ip', ['addr', 'add', `${DEVICE_ADDRESS}/24`, 'dev', 'veth0']);
  sh('ip', ['link', 'set', 'veth0', 'up']);
  sh('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'veth0']);
  const cam = await startDemoCamera({ host: DEVICE_ADDRESS, width: 160, height: 120, fps: 5, onvif: { discoveryPort: 3702, motionEverySec: 0 } });
  const other = await new DiscoveryResponder({
    devices: [{ endpoint: 'urn:uuid:0e1a2b3c-0000-4000-8000-00000000beef', xaddrs: ['http://10.99.1.1:9/onvif/device_service'],
      scopes: ['onvif://www.onvif.org/name/Second%20Camera', 'onvif://www.onvif.org/hardware/DS-2CD2143'] }],
    bind: '0.0.0.0', port: 3702, multicastOn: [DEVICE_ADDRESS],
  }).start();
  try {
    const setup = [
      'i=0; while ! ip link show veth1 >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 200 ] && exit 3; sleep 0.05; done',
      'ip link set lo up', `ip addr add ${CLIENT_ADDRESS}/24 dev veth1`, 'ip link set veth1 up', 'ip route add 224.0.0.0/4 dev veth1',
      `exec "${process.execPath}" --import tsx "${__filename}" client`,
    ].join(' && ');
    const child = spawn('unshare', ['-n', 'sh', '-c', setup], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // unshare without --fork execs sh in the new namespace under the same pid
    await new Promise((r) => setTimeout(r, 100));
    sh('ip', ['link', 'set', 'veth1', 'netns', String(child.pid)]);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    const code = await exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`client namespace exited ${code}: ${stderr}`);
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    process.stdout.write(JSON.stringify({ ...result, camera: { url: cam.url, deviceUrl: cam.onvif!.deviceUrl, endpoint: cam.onvif!.endpoint, probes: cam.onvif!.stats.probes }, other: { probes: other.probes } }) + '\n');
  } finally {
    await other.close();
    await cam.close();
  }
}

async function clientHalf(): Promise<void> {
  const found = await discover({ timeoutMs: 2000 });
  const demo = found.devices.find((d) => d.name === 'demo camera');
  const profiles = demo?.deviceUrl ? await queryDevice(demo.deviceUrl).catch((e: Error) => ({ error: e.message })) : null;
  let onvifUtil: string | null = null;
  if (!spawnSync('onvif-util', ['-h'], { stdio: 'ignore' }).error) {
    const r = spawnSync('onvif-util', ['-a'], { encoding: 'utf8', timeout: 20000 });
    onvifUtil = `${r.stdout}${r.stderr}`;
  }
  process.stdout.write(JSON.stringify({ found, profiles, onvifUtil }) + '\n');
}

if (require.main === module) {
  const mode = process.argv[2];
  const run = mode === 'devices' ? devicesHalf() : mode === 'client' ? clientHalf() : Promise.reject(new Error('usage: onvif-netns-discovery.ts devices | client'));
  run.then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`onvif-netns-discovery ${mode ?? ''}: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  });
}
