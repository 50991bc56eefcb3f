/**
 * The two halves of the multicast interop test (test/interop/gst-multicast.test.ts), each run
 * inside a network namespace the test creates, so no multicast packet leaves the machine:
 *
 *   server namespace (made by `unshare -rn`): veth0 10.99.0.1/24, route 224.0.0.0/4 via veth0,
 *     GStreamer's RTSP server with a multicast address pool;
 *   client namespace (made here with `unshare -n`): veth1 10.99.0.2/24, route 224.0.0.0/4 via
 *     veth1, our two clients.
 *
 * Two namespaces rather than one: GStreamer binds the group's ports without SO_REUSEADDR, so a
 * receiver on the same host as the server could not bind them; a real camera is another host.
 *
 * `server OUT_DIR`: starts the server, starts the client half, prints the client half's JSON
 * plus the RTCP the server received. `clients URL OUT_DIR`: opens two of our clients with
 * `transport: 'multicast'` on the same URL, the second while the first plays, and a plain
 * group member on the RTCP port that records the receiver reports sent to the group; writes
 * every JPEG to OUT_DIR/client<i>/<index>.jpg and prints one JSON line. The parent test decodes and judges;
 * these halves only record, so a namespace problem can never look like a pass.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { startGstServer, runClient, type ClientRun } from './peers';
import { parseRtcpCompound, SDES_CNAME } from '../../src/rtcp/packet';

export const SERVER_ADDRESS = '10.99.0.1';
const CLIENT_ADDRESS = '10.99.0.2';
export const GROUP = '224.3.0.1';
export const GROUP_PORTS: [number, number] = [50000, 50001];

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
}

async function serverHalf(out: string): Promise<void> {
  sh('ip', ['link', 'set', 'lo', 'up']);
  sh('ip', ['link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1']);
  sh('ip', ['addr', 'add', `${SERVER_ADDRESS}/24`, 'dev', 'veth0']);
  sh('ip', ['link', 'set', 'veth0', 'up']);
  sh('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'veth0']);
  const server = await startGstServer({
    address: SERVER_ADDRESS, width: 320, height: 240, fps: 25, duration: 40, pattern: 'ball',
    multicast: `${GROUP}-${GROUP}:${GROUP_PORTS[0]}-${GROUP_PORTS[1]}`,
  });
  try {
    // The client half waits for veth1 to appear in its namespace, then configures it.
    const setup = [
      'i=0; while ! ip link show veth1 >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 200 ] && exit 3; sleep 0.05; done',
      'ip link set lo up', `ip addr add ${CLIENT_ADDRESS}/24 dev veth1`, 'ip link set veth1 up',
      'ip route add 224.0.0.0/4 dev veth1',
      `exec "${process.execPath}" --import tsx "${__filename}" clients "$0" "$1"`,
    ].join(' && ');
    const child = spawn('unshare', ['-n', 'sh', '-c', setup, server.url, out], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    process.stdout.write(JSON.stringify({ ...result, rtcp: server.rtcp }) + '\n');
  } finally {
    await server.stop();
  }
}

async function clientsHalf(url: string, out: string): Promise<void> {
  // A third member of the group, on the RTCP port: whatever our clients send to the group
  // reaches it by multicast loopback; nothing is ever sent to its own address.
  const observed: { reporter: number; cnames: string[]; blocks: number }[] = [];
  const observer = createSocket({ type: 'udp4', reuseAddr: true });
  observer.on('message', (m: Buffer) => {
    const { packets } = parseRtcpCompound(m);
    const rr = packets.find((p) => p.type === 'RR');
    if (!rr || rr.type !== 'RR') return;
    const cnames = packets.flatMap((p) => (p.type === 'SDES' ? p.chunks.flatMap((c) => c.items.filter((i) => i.type === SDES_CNAME).map((i) => i.value)) : []));
    observed.push({ reporter: rr.ssrc, cnames, blocks: rr.reports.length });
  });
  await new Promise<void>((resolve) => observer.bind(GROUP_PORTS[1], () => resolve()));
  observer.addMembership(GROUP);
  try {
    // The second client joins the group while the first one plays and leaves before it, so
    // the first client's window holds the second one's whole window.
    let second: ClientRun | null = null;
    const first = await runClient(url, { transport: 'multicast' }, {
      streamMs: 500,
      during: async () => { second = await runClient(url, { transport: 'multicast' }, { streamMs: 4000 }); },
    });
    const runs: ClientRun[] = second ? [first, second] : [first];
    const clients = runs.map((run, i) => {
      const dir = join(out, `client${i}`);
      mkdirSync(dir, { recursive: true });
      for (const f of run.frames) writeFileSync(join(dir, `${f.info.index}.jpg`), f.jpeg);
      return { frames: run.frames.map((f) => f.info), states: run.states, errors: run.errors.map((e) => `${e.reason}: ${e.message}`), stats: run.stats };
    });
    process.stdout.write(JSON.stringify({ url, clients, observed }) + '\n');
  } finally {
    observer.close();
  }
}

if (require.main === module) {
  const [mode, a, b] = process.argv.slice(2);
  const run = mode === 'server' && a ? serverHalf(a) : mode === 'clients' && a && b ? clientsHalf(a, b) : Promise.reject(new Error('usage: netns-multicast.ts server OUT | clients URL OUT'));
  run.then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`netns-multicast ${mode ?? ''}: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  });
}
