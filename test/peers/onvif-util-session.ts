/**
 * Debian's onvif-util (libonvif 1.4.4) against one device emulation or the demo camera, run
 * inside a network namespace the interop test makes (`unshare -rn`: only a loopback interface,
 * with a multicast route), because onvif-util only talks to devices it finds by WS-Discovery
 * multicast on port 3702. Prints one JSON line: what `onvif-util -a` and an
 * `onvif-util -u U -p P 127.0.0.1` session printed, and the requests the device saw, for each
 * device in turn (`-a` only for the first: the session finds its device the same way).
 *
 * usage (inside the namespace): onvif-util-session.ts <device name | demo>...
 */
import { spawn } from 'node:child_process';
import { startDevice, USERNAME, PASSWORD, type DeviceName } from './onvif-devices';
import { DiscoveryResponder } from './onvif-discovery-responder';
import { startDemoCamera } from '../../src/sim/demo-camera';

function run(args: string[], input: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('onvif-util', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('exit', (code) => { clearTimeout(timer); resolve(`${out}\n[exit ${code}]`); });
    child.stdin.end(input);
  });
}

interface Seen { name: string; all: string | null; session: string; deviceUrl: string; requests: string[] }

async function one(name: string, listAll: boolean): Promise<Seen> {
  const commands = 'get profiles\nget rtsp\nget capabilities\nget time\nquit\n';
  if (name === 'demo') {
    const cam = await startDemoCamera({ host: '127.0.0.1', onvif: { discoveryPort: 3702, motionEverySec: 0 } });
    try {
      const all = listAll ? await run(['-a'], '') : null;
      const session = await run(['-u', 'admin', '-p', 'unused', '127.0.0.1'], commands);
      return { name, all, session, deviceUrl: cam.onvif!.deviceUrl, requests: [] };
    } finally {
      await cam.close();
    }
  }
  const d = await startDevice(name as DeviceName, 8554);
  const responder = await new DiscoveryResponder({
    devices: [{ endpoint: `urn:uuid:5f5a69c2-e0ae-504f-829b-00${String(d.port).padStart(10, '0')}`, xaddrs: [d.deviceUrl],
      scopes: [`onvif://www.onvif.org/name/${d.b.model}`, `onvif://www.onvif.org/hardware/${d.b.model}`, 'onvif://www.onvif.org/Profile/Streaming'] }],
    bind: '0.0.0.0', port: 3702, multicastOn: ['127.0.0.1'],
  }).start();
  try {
    const all = listAll ? await run(['-a'], '') : null;
    const session = await run(['-u', USERNAME, '-p', PASSWORD, '127.0.0.1'], commands);
    return { name, all, session, deviceUrl: d.deviceUrl, requests: d.counters.requests.map((r) => `${r.op}:${r.auth}:${r.status}`) };
  } finally {
    await responder.close();
    await d.close();
  }
}

async function main(names: string[]): Promise<void> {
  const out: Seen[] = [];
  for (const [i, n] of names.entries()) out.push(await one(n, i === 0));
  process.stdout.write(JSON.stringify(out) + '\n');
}

main(process.argv.slice(2)).then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`onvif-util-session: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
