import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildReceiverReport, buildSdesCname, buildReceiverReportCompound, buildSenderReport,
  buildSenderReportCompound, buildBye,
} from '../../src/rtcp/build';
import { parseRtcpCompound, type ReportBlock, type SenderReportPacket } from '../../src/rtcp/packet';
import { ntpToMs } from '../../src/rtcp/ntp';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

const BLOCK: ReportBlock = {
  ssrc: 0x3634d2de, fractionLost: 12, cumulativeLost: -1, extendedHighestSeq: 0x00014e27,
  jitter: 90, lastSr: 0x56789abc, delaySinceLastSr: 98304,
};

describe('RTCP builders: byte layout', () => {
  test('RR with one block', () => {
    assert.deepEqual(buildReceiverReport(0x11223344, [BLOCK]), hex(
      '81c9 0007 11223344'
      + ' 3634d2de 0c ffffff 00014e27 0000005a 56789abc 00018000',
    ));
  });

  test('empty RR (RC 0)', () => {
    assert.deepEqual(buildReceiverReport(0xfffffffe, []), hex('80c90001 fffffffe'));
  });

  test('cumulative lost is clamped to signed 24 bits; fraction to 0..255', () => {
    const b = (n: number, f = 0): Buffer => buildReceiverReport(1, [{ ...BLOCK, cumulativeLost: n, fractionLost: f }]).subarray(12, 16);
    assert.deepEqual(b(0x7fffff), hex('007fffff'));
    assert.deepEqual(b(10_000_000), hex('007fffff'));
    assert.deepEqual(b(-0x800000), hex('00800000'));
    assert.deepEqual(b(-10_000_000), hex('00800000'));
    assert.deepEqual(b(-2), hex('00fffffe'));
    assert.deepEqual(b(5, 300), hex('ff000005'));
  });

  test('more than 31 blocks are split into consecutive RR packets', () => {
    const blocks = Array.from({ length: 33 }, (_, i) => ({ ...BLOCK, ssrc: i + 1 }));
    const buf = buildReceiverReport(7, blocks);
    assert.equal(buf.length, 8 + 31 * 24 + 8 + 2 * 24);
    const { packets, error } = parseRtcpCompound(buf);
    assert.equal(error, null);
    assert.equal(packets.length, 2);
    const ssrcs = packets.flatMap((p) => (p.type === 'RR' ? p.reports.map((r) => r.ssrc) : []));
    assert.deepEqual(ssrcs, blocks.map((b) => b.ssrc));
  });

  test('SDES CNAME: null item and 32-bit padding', () => {
    // "abc": 4+4+2+3 = 13 → +1 null = 14 → 16 bytes.
    assert.deepEqual(buildSdesCname(0x11223344, 'abc'), hex('81ca0003 11223344 01036162 63000000'));
    // "ab": 4+4+2+2 = 12, a null item still needs a whole extra word.
    assert.deepEqual(buildSdesCname(1, 'ab'), hex('81ca0003 00000001 01026162 00000000'));
    // 255-byte limit, cut on a UTF-8 character boundary.
    const long = buildSdesCname(1, 'é'.repeat(200));
    assert.equal(long[9], 254);
    const p = parseRtcpCompound(long);
    assert.equal(p.error, null);
    assert.equal(p.packets[0]!.type === 'SDES' && p.packets[0].chunks[0]!.items[0]!.value, 'é'.repeat(127));
  });

  test('RR + SDES compound: RR first (§6.1)', () => {
    const c = buildReceiverReportCompound({ ssrc: 0x11223344, cname: 'abc', blocks: [BLOCK] });
    assert.deepEqual(c, Buffer.concat([buildReceiverReport(0x11223344, [BLOCK]), hex('81ca0003 11223344 01036162 63000000')]));
    const { packets, error } = parseRtcpCompound(c);
    assert.equal(error, null);
    assert.deepEqual(packets, [
      { type: 'RR', ssrc: 0x11223344, reports: [BLOCK] },
      { type: 'SDES', chunks: [{ ssrc: 0x11223344, items: [{ type: 1, value: 'abc' }] }] },
    ]);
  });

  test('SR: NTP from wall-clock ms, counters modulo 2^32', () => {
    const ms = Date.UTC(2026, 10, 23, 12, 0, 0, 500);
    const sr = buildSenderReport({ ssrc: 0xaabbccdd, ntpMs: ms, rtpTimestamp: 2 ** 32 + 5, packetCount: 10, octetCount: 2 ** 32 + 1 });
    assert.equal(sr.length, 28);
    assert.deepEqual(sr.subarray(0, 8), hex('80c80006 aabbccdd'));
    assert.equal(sr.readUInt32BE(8), ms / 1000 - 0.5 + 2208988800);
    assert.equal(sr.readUInt32BE(12), 0x80000000);
    assert.equal(sr.readUInt32BE(16), 5);
    assert.equal(sr.readUInt32BE(20), 10);
    assert.equal(sr.readUInt32BE(24), 1);
    const c = buildSenderReportCompound({ ssrc: 0xaabbccdd, cname: 'cam@demo', ntpMs: ms, rtpTimestamp: 1, packetCount: 2, octetCount: 3 });
    const { packets, error } = parseRtcpCompound(c);
    assert.equal(error, null);
    const p = packets[0] as SenderReportPacket;
    assert.equal(ntpToMs(p.ntpSeconds, p.ntpFraction), ms);
    assert.equal(packets[1]!.type, 'SDES');
  });

  test('BYE with and without reason', () => {
    assert.deepEqual(buildBye([0x11223344]), hex('81cb0001 11223344'));
    assert.deepEqual(buildBye([1, 2], 'bye'), hex('82cb0003 00000001 00000002 03627965'));
    assert.deepEqual(buildBye([1], 'done'), hex('81cb0003 00000001 04646f6e 65000000'));
    const full = Buffer.concat([buildReceiverReportCompound({ ssrc: 9, cname: 'x', blocks: [] }), buildBye([9], 'teardown')]);
    const { packets, error } = parseRtcpCompound(full);
    assert.equal(error, null);
    assert.deepEqual(packets[2], { type: 'BYE', ssrcs: [9], reason: 'teardown' });
  });
});

// ---- independent dissector: tshark --------------------------------------------------------

const TSHARK = '/usr/bin/tshark';

/** Classic pcap (Ethernet) with one UDP/IPv4 datagram per payload, 127.0.0.1:port → :port. */
function writeUdpPcap(file: string, port: number, payloads: Buffer[]): void {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  parts.push(gh);
  payloads.forEach((payload, i) => {
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + payload.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    hex('7f000001').copy(ip, 12);
    hex('7f000001').copy(ip, 16);
    let sum = 0;
    for (let k = 0; k < 20; k += 2) sum += ip.readUInt16BE(k);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    ip.writeUInt16BE(~sum & 0xffff, 10);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(port + 1, 0);
    udp.writeUInt16BE(port, 2);
    udp.writeUInt16BE(8 + payload.length, 4); // checksum 0 = none (IPv4)
    const frame = Buffer.concat([eth, ip, udp, payload]);
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1795466143 + i, 0);
    rh.writeUInt32LE(frame.length, 8);
    rh.writeUInt32LE(frame.length, 12);
    parts.push(rh, frame);
  });
  writeFileSync(file, Buffer.concat(parts));
}

describe('RTCP builders: dissected by tshark', () => {
  const have = existsSync(TSHARK);
  const skip = !have && process.env['REQUIRE_PEERS'] !== '1' ? 'tshark not installed (/usr/bin/tshark); set REQUIRE_PEERS=1 to make this a failure' : false;

  test('RR+SDES, RR+SDES+BYE and SR+SDES compounds dissect without Malformed and with our values', { skip }, () => {
    assert.ok(have, 'REQUIRE_PEERS=1 but /usr/bin/tshark is missing');
    const dir = mkdtempSync(join(tmpdir(), 'rtcp-tshark-'));
    try {
      const file = join(dir, 'rtcp.pcap');
      const port = 40035;
      const rr = buildReceiverReportCompound({ ssrc: 0x11223344, cname: 'node-red@host', blocks: [BLOCK, { ...BLOCK, ssrc: 0x55667788, cumulativeLost: 1234, fractionLost: 0 }] });
      const bye = Buffer.concat([buildReceiverReportCompound({ ssrc: 0x11223344, cname: 'node-red@host', blocks: [] }), buildBye([0x11223344], 'teardown')]);
      const sr = buildSenderReportCompound({ ssrc: 0xaabbccdd, cname: 'demo@cam', ntpMs: Date.UTC(2026, 10, 23), rtpTimestamp: 123456, packetCount: 77, octetCount: 99999 });
      writeUdpPcap(file, port, [rr, bye, sr]);
      const run = (args: string[]): string => {
        const r = spawnSync(TSHARK, ['-n', '-r', file, '-d', `udp.port==${port},rtcp`, ...args], { encoding: 'utf8', timeout: 30000 });
        assert.equal(r.status, 0, r.stderr);
        return r.stdout;
      };
      const verbose = run(['-V']);
      assert.doesNotMatch(verbose, /Malformed|Expert Info \(Warning|Expert Info \(Error/i, verbose);
      const fields = run(['-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,',
        '-e', 'rtcp.pt', '-e', 'rtcp.ssrc.fraction', '-e', 'rtcp.ssrc.cum_nr', '-e', 'rtcp.ssrc.jitter',
        '-e', 'rtcp.ssrc.ext_high', '-e', 'rtcp.ssrc.lsr', '-e', 'rtcp.ssrc.dlsr', '-e', 'rtcp.sdes.text',
        '-e', 'rtcp.length', '-e', 'rtcp.sender.packetcount', '-e', 'rtcp.timestamp.rtp']).trim().split('\n');
      assert.equal(fields.length, 3, fields.join('\n'));
      const [pt, frac, cum, jit, hs, lsr, dlsr, text] = fields[0]!.split('|');
      assert.equal(pt, '201,202');
      assert.equal(frac, '12,0');
      // tshark prints the 24-bit field as it reads it; -1 appears as -1 (signed) or 16777215 (raw).
      assert.ok(cum === '-1,1234' || cum === '16777215,1234', `cum_nr ${cum}`);
      assert.equal(jit, '90,90');
      assert.equal(hs, `${0x14e27},${0x14e27}`);
      assert.match(lsr ?? '', /^(0x56789abc|1450744508),/);
      assert.match(dlsr ?? '', /^(98304|0x00018000)/);
      assert.equal(text, 'node-red@host');
      const byeF = fields[1]!.split('|');
      assert.equal(byeF[0], '201,202,203');
      // tshark shows the BYE reason in the same 'Text' field as SDES items.
      assert.equal(byeF[7], 'node-red@host,teardown');
      const srf = fields[2]!.split('|');
      assert.equal(srf[0], '200,202');
      assert.equal(srf[7], 'demo@cam');
      assert.equal(srf[9], '77');
      assert.equal(srf[10], '123456');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
