/**
 * Multicast (RFC 2326 §12.39 destination/port, RFC 3550 §6 RTCP to the group) against
 * GStreamer's RTSP server with a multicast address pool, proven in network namespaces the test
 * creates (`unshare -rn`, then `unshare -n` for the clients, joined by a veth pair), so no
 * packet leaves the machine. test/support/netns-multicast.ts runs both halves and records; this
 * file judges: two of our clients on one group both get every frame, every frame decodes, and
 * their receiver reports go to the group (a third group member hears them) and reach the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnlessPeer, undecodable, type ReceivedFrame, type ServerSeenRtcp } from '../support/peers';
import type { FrameInfo, StateChange, StatsReport } from '../../src/camera/types';

const HALVES = join(__dirname, '..', 'support', 'netns-multicast.ts');

interface ClientRecord { frames: FrameInfo[]; states: StateChange[]; errors: string[]; stats: StatsReport | null }
interface Result { url: string; clients: ClientRecord[]; observed: { reporter: number; cnames: string[]; blocks: number }[]; rtcp: ServerSeenRtcp[] }

/** Why the namespaces cannot be made here, or null when they can. */
function netnsUnavailable(): string | null {
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link set lo up && ip link add veth0 type veth peer name veth1 && unshare -n true'],
    { encoding: 'utf8', timeout: 10000 });
  if (r.error) return `cannot run unshare/ip (${r.error.message}): apt-get install util-linux iproute2`;
  if (r.status !== 0) return `cannot create a network namespace with a veth pair (unshare -rn; needs root or unprivileged user namespaces): ${r.stderr.trim()}`;
  return null;
}

function runHalves(out: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-rn', process.execPath, '--import', 'tsx', HALVES, 'server', out], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    // bounded: the halves take ~7 s; the namespaces die with their last process
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 60000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) { reject(new Error(`namespace run failed (${code ?? signal}): ${stderr.trim()}`)); return; }
      try { resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as Result); } catch (e) { reject(new Error(`bad output ${stdout.slice(-500)}: ${String(e)}`)); }
    });
  });
}

test('multicast in a network namespace: two clients on one group both get every frame; RTCP goes to the group', async (t) => {
  if (!skipUnlessPeer(t, 'gst-rtsp-server', 'djpeg', 'ffmpeg')) return;
  const why = netnsUnavailable();
  if (why) {
    if (process.env.REQUIRE_PEERS === '1') throw new Error(`${why} (REQUIRE_PEERS=1)`);
    t.skip(why);
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'mcast-'));
  try {
    const r = await runHalves(out);
    assert.equal(r.clients.length, 2, 'the second client never ran (the first got no frame)');
    const frames = r.clients.map((c, i) => c.frames.map((info): ReceivedFrame => ({ info, jpeg: readFileSync(join(out, `client${i}`, `${info.index}.jpg`)) })));
    for (const [i, c] of r.clients.entries()) {
      const what = `client ${i}: states ${JSON.stringify(c.states)} errors ${c.errors.join('; ')}`;
      assert.ok(c.frames.length >= 50, `${what}: only ${c.frames.length} frames`);
      assert.equal(c.stats?.transport, 'multicast', what);
      assert.deepEqual(c.errors, [], what);
      assert.deepEqual(undecodable(frames[i]!, { width: 320, height: 240 }), []);
    }
    // The second client saw every frame sent while it played: consecutive RTP timestamps
    // (25 fps at 90 kHz) and no sequence gap.
    const ts = r.clients[1]!.frames.map((f) => f.rtpTimestamp);
    const steps = ts.slice(1).map((v, k) => (v - ts[k]!) >>> 0).filter((d) => d !== 3600);
    assert.deepEqual(steps, [], 'second client: frames missing (RTP timestamp steps other than 3600)');
    assert.equal(r.clients[1]!.stats?.packetsLost, 0);
    // ...and the first client, which played all along, got the very same frames: the second
    // client's JPEGs appear, byte for byte and in order, as one run of the first client's.
    const a = frames[0]!.map((f) => f.jpeg);
    const b = frames[1]!.map((f) => f.jpeg);
    const at = a.findIndex((j, k) => k + b.length <= a.length && b.every((x, m) => x.equals(a[k + m]!)));
    assert.ok(at >= 0, `the second client's ${b.length} frames are not one run of the first client's ${a.length}`);

    // RTCP: receiver reports with CNAME from two reporters, heard by a plain group member
    // (so they were sent to the group), and the same reporters seen by the server.
    const media = r.clients[0]!.frames[0]!.ssrc;
    const groupReporters = new Set(r.observed.filter((o) => o.blocks > 0 && o.cnames.length > 0).map((o) => o.reporter));
    assert.equal(groupReporters.size, 2, `RR heard on the group: ${JSON.stringify(r.observed)}`);
    const serverReporters = new Set(r.rtcp.flatMap((x) => x.blocks.filter((b) => b.ssrc === media).map((b) => b.reporter)));
    assert.deepEqual([...groupReporters].sort(), [...serverReporters].sort(), `server saw: ${r.rtcp.map((x) => x.line).join(' / ')}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
