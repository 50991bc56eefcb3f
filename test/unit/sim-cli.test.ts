import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseDemoCameraArgs } from '../../src/sim/cli-entry';
import { applyPacketFaults } from '../../src/sim/packet-faults';

describe('sim/cli-entry', () => {
  test('parses options; password only from RTSP_PASSWORD', () => {
    const o = parseDemoCameraArgs(['--port', '9554', '--host=0.0.0.0', '--width', '320', '--height', '240', '--fps', '10', '--path', '/cam', '--auth', 'digest', '--username', 'u', '--transport', 'tcp'], { RTSP_PASSWORD: 'pw' });
    assert.deepEqual(o, { port: 9554, host: '0.0.0.0', width: 320, height: 240, fps: 10, path: '/cam', auth: 'digest', username: 'u', password: 'pw', transports: ['tcp'] });
    assert.deepEqual(parseDemoCameraArgs([], {}), { port: 8554, host: '127.0.0.1' });
    assert.throws(() => parseDemoCameraArgs(['--auth', 'basic', '--username', 'u'], {}), /RTSP_PASSWORD/);
    assert.throws(() => parseDemoCameraArgs(['--auth', 'bogus'], {}), /none, basic or digest/);
    assert.throws(() => parseDemoCameraArgs(['--port', 'x'], {}), /--port/);
    assert.throws(() => parseDemoCameraArgs(['--password', 'p'], {}), /unknown option/);
  });

  test('runDemoCameraCli prints the URL and exits cleanly on SIGTERM', async () => {
    const script = `require(${JSON.stringify(join(__dirname, '../../src/sim/cli-entry.ts'))}).runDemoCameraCli(['--port','0','--width','64','--height','48']).then(()=>process.stdout.write('exited\\n'))`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const deadline = Date.now() + 15000;
    while (!/rtsp:\/\/127\.0\.0\.1:\d+\/demo/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /^demo camera: rtsp:\/\/127\.0\.0\.1:\d+\/demo$/m);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0);
    assert.match(out, /exited/);
  });
});

describe('sim/packet-faults', () => {
  const pkts = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => {
    const b = Buffer.alloc(20);
    b.writeUInt16BE(i, 2);
    b.writeUInt32BE(1000, 4);
    return b;
  });
  const counters = (): { dropped: number; duplicated: number; reordered: number; timestampChanged: number } => ({ dropped: 0, duplicated: 0, reordered: 0, timestampChanged: 0 });

  test('no faults → same list', () => {
    const p = pkts(5);
    assert.equal(applyPacketFaults(p, {}, counters()).packets, p);
  });

  test('100 % loss drops all; 100 % duplicates doubles; counters follow', () => {
    const c = counters();
    assert.equal(applyPacketFaults(pkts(10), { lossPercent: 100 }, c).packets.length, 0);
    assert.equal(c.dropped, 10);
    const d = applyPacketFaults(pkts(4), { duplicatePercent: 100 }, c).packets;
    assert.deepEqual(d.map((b) => b.readUInt16BE(2)), [0, 0, 1, 1, 2, 2, 3, 3]);
  });

  test('reorder swaps at least one adjacent pair and keeps every packet', () => {
    const c = counters();
    const out = applyPacketFaults(pkts(6), { reorder: true }, c, () => 0.9).packets.map((b) => b.readUInt16BE(2));
    assert.notDeepEqual(out, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual([...out].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5]);
    assert.ok(c.reordered >= 1);
  });

  test('midFrameTimestampChange changes the second half only, without touching the input', () => {
    const p = pkts(4);
    const r = applyPacketFaults(p, { midFrameTimestampChange: true }, counters());
    assert.ok(r.timestampChanged);
    assert.deepEqual(r.packets.map((b) => b.readUInt32BE(4)), [1000, 1000, 2500, 2500]);
    assert.ok(p.every((b) => b.readUInt32BE(4) === 1000));
  });
});
