import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  parseRtcpCompound, isRtcpPacket, type RtcpPacket, type SenderReportPacket, type SdesPacket,
  type ReceiverReportPacket, type ByePacket, type AppPacket,
} from '../../src/rtcp/packet';
import { ntpMiddle32 } from '../../src/rtcp/ntp';
import { vectorPackets } from '../support/pcap';

const VECTOR = 'test/fixtures/vectors/gst-udp-rtcp-160x120-25s';
const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

// Hand-assembled packets (RFC 3550 §6.4.1, §6.5, §6.6, §6.7 layouts).
const SR_NO_BLOCKS = hex('80c80006 11223344 eeaf2221 554940bb b989641f 00000072 000187aa');
const SDES_CNAME = hex('81ca0003 11223344 01036162 63000000'); // CNAME "abc", END, pad
const HANWHA_SDES = Buffer.concat([hex('81ca0003 11223344 0106'), Buffer.from('camera')]); // no END item

describe('parseRtcpCompound: captured GStreamer SR+SDES and FFmpeg RR+SDES', () => {
  const meta = JSON.parse(readFileSync(`${VECTOR}.json`, 'utf8')) as { sdp: string };
  const m = /a=ssrc:(\d+) cname:(\S+)/.exec(meta.sdp);
  assert.ok(m, 'vector SDP carries a=ssrc cname');
  const sdpSsrc = Number(m[1]);
  const sdpCname = m[2]!;
  const { rtcp } = vectorPackets(`${VECTOR}.pcap`, 26);

  test('every captured RTCP datagram parses cleanly', () => {
    assert.ok(rtcp.length >= 8, `expected RTCP in the vector, got ${rtcp.length}`);
    for (const r of rtcp) {
      const { packets, error } = parseRtcpCompound(r.packet);
      assert.equal(error, null, r.packet.toString('hex'));
      assert.ok(packets.length >= 1);
    }
  });

  test('server SRs come with SDES CNAME equal to the SDP a=ssrc cname', () => {
    const srs = rtcp.map((r) => parseRtcpCompound(r.packet).packets).filter((p) => p[0]?.type === 'SR');
    assert.ok(srs.length >= 5, `server SRs: ${srs.length}`);
    let prevPackets = -1;
    for (const pk of srs) {
      const sr = pk[0] as SenderReportPacket;
      assert.equal(sr.ssrc, sdpSsrc);
      assert.equal(sr.reports.length, 0);
      assert.ok(sr.packetCount > prevPackets, 'SR packet count grows');
      prevPackets = sr.packetCount;
      const sdes = pk[1] as SdesPacket;
      assert.equal(sdes.type, 'SDES');
      assert.equal(sdes.chunks.length, 1);
      assert.equal(sdes.chunks[0]!.ssrc, sdpSsrc);
      const cname = sdes.chunks[0]!.items.find((i) => i.type === 1);
      assert.equal(cname?.value, sdpCname);
      const tool = sdes.chunks[0]!.items.find((i) => i.type === 6);
      assert.equal(tool?.value, 'GStreamer');
    }
  });

  test('FFmpeg client RRs: report block for the server SSRC, LSR/DLSR matching the SR they answer', () => {
    let rrs = 0;
    let lastSr: { sr: SenderReportPacket; time: number } | null = null;
    for (const r of rtcp) {
      const pk = parseRtcpCompound(r.packet).packets;
      if (pk[0]?.type === 'SR') { lastSr = { sr: pk[0], time: r.time }; continue; }
      if (pk[0]?.type !== 'RR') continue;
      const rr = pk[0] as ReceiverReportPacket;
      if (rr.reports.length === 0) continue; // FFmpeg's NAT "punch" empty RR, SSRC 0
      rrs++;
      assert.equal(rr.ssrc, (sdpSsrc + 1) >>> 0, 'FFmpeg uses media SSRC + 1');
      const b = rr.reports[0]!;
      assert.equal(b.ssrc, sdpSsrc);
      assert.ok(b.cumulativeLost === 0 && b.fractionLost === 0, 'loopback: no loss');
      assert.ok(lastSr);
      assert.equal(b.lastSr, ntpMiddle32(lastSr.sr.ntpSeconds, lastSr.sr.ntpFraction));
      const dlsrS = b.delaySinceLastSr / 65536;
      assert.ok(Math.abs(dlsrS - (r.time - lastSr.time)) < 0.05, `DLSR ${dlsrS} vs capture ${r.time - lastSr.time}`);
      const sdes = pk[1] as SdesPacket;
      assert.equal(sdes.type, 'SDES');
      assert.equal(sdes.chunks[0]!.items[0]!.type, 1);
    }
    assert.ok(rrs >= 2, `FFmpeg RRs with blocks: ${rrs}`);
  });
});

describe('parseRtcpCompound: synthetic compounds', () => {
  test('SR + SDES', () => {
    const { packets, error } = parseRtcpCompound(Buffer.concat([SR_NO_BLOCKS, SDES_CNAME]));
    assert.equal(error, null);
    assert.deepEqual(packets, [
      { type: 'SR', ssrc: 0x11223344, ntpSeconds: 0xeeaf2221, ntpFraction: 0x554940bb, rtpTimestamp: 0xb989641f, packetCount: 0x72, octetCount: 0x187aa, reports: [] },
      { type: 'SDES', chunks: [{ ssrc: 0x11223344, items: [{ type: 1, value: 'abc' }] }] },
    ]);
  });

  test('SR with a report block: signed 24-bit cumulative loss', () => {
    const sr = hex('81c8000c 11223344 00000001 00000002 00000003 00000004 00000005'
      + ' aabbccdd 0c fffffe 00010005 00000020 12345678 00018000');
    const { packets, error } = parseRtcpCompound(sr);
    assert.equal(error, null);
    assert.deepEqual((packets[0] as SenderReportPacket).reports, [{
      ssrc: 0xaabbccdd, fractionLost: 12, cumulativeLost: -2, extendedHighestSeq: 0x10005, jitter: 32, lastSr: 0x12345678, delaySinceLastSr: 98304,
    }]);
  });

  test('SR then a broken SDES: SR kept, error set', () => {
    // SDES item claims 0x20 bytes inside a 12-byte body.
    const broken = hex('81ca0002 11223344 0120aaaa');
    const { packets, error } = parseRtcpCompound(Buffer.concat([SR_NO_BLOCKS, broken]));
    assert.equal(packets.length, 1);
    assert.equal(packets[0]!.type, 'SR');
    assert.match(error ?? '', /SDES/);
  });

  test('Hanwha SDES without END item is tolerated', () => {
    const { packets, error } = parseRtcpCompound(Buffer.concat([SR_NO_BLOCKS, HANWHA_SDES]));
    assert.equal(error, null);
    assert.deepEqual(packets[1], { type: 'SDES', chunks: [{ ssrc: 0x11223344, items: [{ type: 1, value: 'camera' }] }] });
  });

  test('SDES with two chunks, END in the middle padded to 32 bits', () => {
    // chunk 1: CNAME "ab", END + 3 padding octets; chunk 2: CNAME "b", END (already aligned)
    const sdes = hex('82ca0005 00000001 01026162 00000000 00000002 01016200');
    const { packets, error } = parseRtcpCompound(sdes);
    assert.equal(error, null);
    assert.deepEqual((packets[0] as SdesPacket).chunks, [
      { ssrc: 1, items: [{ type: 1, value: 'ab' }] },
      { ssrc: 2, items: [{ type: 1, value: 'b' }] },
    ]);
  });

  test('SDES claiming more chunks than present → error, earlier packets kept', () => {
    const sdes = hex('82ca0002 00000001 01016100');
    const { packets, error } = parseRtcpCompound(Buffer.concat([SR_NO_BLOCKS, sdes]));
    assert.deepEqual(packets.map((p) => p.type), ['SR']);
    assert.match(error ?? '', /chunks/);
  });

  test('BYE with reason, BYE without reason', () => {
    const withReason = Buffer.concat([hex('81cb0003 11223344 08'), Buffer.from('shutdown'), Buffer.alloc(3)]);
    const fixed = Buffer.from(withReason);
    fixed.writeUInt16BE(fixed.length / 4 - 1, 2);
    const noReason = hex('82cb0002 00000001 00000002');
    const { packets, error } = parseRtcpCompound(Buffer.concat([SR_NO_BLOCKS, SDES_CNAME, fixed, noReason]));
    assert.equal(error, null);
    assert.deepEqual(packets[2], { type: 'BYE', ssrcs: [0x11223344], reason: 'shutdown' } satisfies ByePacket);
    assert.deepEqual(packets[3], { type: 'BYE', ssrcs: [1, 2], reason: null });
  });

  test('APP packet: subtype, name, data', () => {
    const app = Buffer.concat([hex('85cc0003 11223344'), Buffer.from('ONVF'), hex('deadbeef')]);
    const { packets, error } = parseRtcpCompound(Buffer.concat([SR_NO_BLOCKS, app]));
    assert.equal(error, null);
    const a = packets[1] as AppPacket;
    assert.equal(a.type, 'APP');
    assert.equal(a.subtype, 5);
    assert.equal(a.ssrc, 0x11223344);
    assert.equal(a.name, 'ONVF');
    assert.deepEqual(a.data, hex('deadbeef'));
  });

  test('unknown types (XR 207, PSFB 206) are skipped by their length', () => {
    const xr = hex('80cf0002 11223344 04000001');
    const psfb = hex('81ce0002 11223344 55667788');
    const { packets, error } = parseRtcpCompound(Buffer.concat([SR_NO_BLOCKS, xr, psfb, SDES_CNAME]));
    assert.equal(error, null);
    assert.deepEqual(packets.map((p) => p.type), ['SR', 'unknown', 'unknown', 'SDES']);
    assert.deepEqual(packets[1], { type: 'unknown', packetType: 207 });
  });

  test('length beyond the buffer stops parsing with an error, earlier packets kept', () => {
    const truncated = hex('81ca0009 11223344 01036162');
    const { packets, error } = parseRtcpCompound(Buffer.concat([SR_NO_BLOCKS, truncated]));
    assert.deepEqual(packets.map((p) => p.type), ['SR']);
    assert.match(error ?? '', /exceeds/);
    // Also when the very first packet is cut short.
    const first = parseRtcpCompound(SR_NO_BLOCKS.subarray(0, 20));
    assert.deepEqual(first.packets, []);
    assert.ok(first.error);
  });

  test('padding bit on the last packet', () => {
    // RR (RC 0) + SDES with P: 4 bytes of padding, last byte = 4.
    const rr = hex('80c90001 11223344');
    const sdes = hex('a1ca0004 11223344 01036162 63000000 00000004');
    const { packets, error } = parseRtcpCompound(Buffer.concat([rr, sdes]));
    assert.equal(error, null);
    assert.deepEqual(packets, [
      { type: 'RR', ssrc: 0x11223344, reports: [] },
      { type: 'SDES', chunks: [{ ssrc: 0x11223344, items: [{ type: 1, value: 'abc' }] }] },
    ]);
    // BYE with padding: the padding must not be read as a reason.
    const bye = parseRtcpCompound(hex('a1cb0002 11223344 00000004'));
    assert.equal(bye.error, null);
    assert.deepEqual(bye.packets[0], { type: 'BYE', ssrcs: [0x11223344], reason: null });
  });

  test('invalid padding count, wrong version, trailing bytes, empty input', () => {
    assert.match(parseRtcpCompound(hex('a0c90001 11223344')).error ?? '', /padding/);
    assert.match(parseRtcpCompound(hex('40c90001 11223344')).error ?? '', /version/);
    const trailing = parseRtcpCompound(Buffer.concat([SR_NO_BLOCKS, hex('80')]));
    assert.equal(trailing.packets.length, 1);
    assert.match(trailing.error ?? '', /truncated/);
    assert.ok(parseRtcpCompound(Buffer.alloc(0)).error);
  });

  test('RR/SR whose report count does not fit the length → error', () => {
    assert.match(parseRtcpCompound(hex('81c90001 11223344')).error ?? '', /RR too short/);
    assert.match(parseRtcpCompound(hex('80c80001 11223344')).error ?? '', /SR too short/);
  });
});

describe('isRtcpPacket (RFC 5761 demultiplexing)', () => {
  test('RTCP types are recognised, RTP is not', () => {
    assert.equal(isRtcpPacket(SR_NO_BLOCKS), true);
    assert.equal(isRtcpPacket(hex('80c90001 11223344')), true);
    assert.equal(isRtcpPacket(hex('80cf0002 11223344 04000001')), true); // XR
    assert.equal(isRtcpPacket(hex('801a0001 00000000 11223344')), false); // RTP JPEG PT 26
    assert.equal(isRtcpPacket(hex('809a0001 00000000 11223344')), false); // PT 26 + marker
    assert.equal(isRtcpPacket(hex('80e00001 00000000 11223344')), false); // PT 96 + marker
    assert.equal(isRtcpPacket(hex('40c90001 11223344')), false); // version 1
    assert.equal(isRtcpPacket(hex('80c9')), false);
  });

  test('classifies the vector datagrams like the capture tool does', () => {
    const v = vectorPackets(`${VECTOR}.pcap`, 26);
    assert.ok(v.rtcp.every((r) => isRtcpPacket(r.packet)));
    assert.ok(v.rtp.every((r) => !isRtcpPacket(r.packet)));
  });
});

function assertSane(p: RtcpPacket): void {
  const u32 = (n: number): void => assert.ok(Number.isInteger(n) && n >= 0 && n <= 0xffffffff, String(n));
  switch (p.type) {
    case 'SR':
    case 'RR':
      if (p.type === 'SR') [p.ntpSeconds, p.ntpFraction, p.rtpTimestamp, p.packetCount, p.octetCount].forEach(u32);
      u32(p.ssrc);
      assert.ok(p.reports.length <= 31);
      for (const b of p.reports) {
        [b.ssrc, b.extendedHighestSeq, b.jitter, b.lastSr, b.delaySinceLastSr].forEach(u32);
        assert.ok(b.fractionLost >= 0 && b.fractionLost <= 255);
        assert.ok(Number.isInteger(b.cumulativeLost) && b.cumulativeLost >= -0x800000 && b.cumulativeLost <= 0x7fffff);
      }
      break;
    case 'SDES':
      assert.ok(p.chunks.length <= 31);
      for (const c of p.chunks) {
        u32(c.ssrc);
        for (const i of c.items) { assert.ok(i.type >= 1 && i.type <= 255); assert.equal(typeof i.value, 'string'); }
      }
      break;
    case 'BYE':
      assert.ok(p.ssrcs.length <= 31);
      p.ssrcs.forEach(u32);
      assert.ok(p.reason === null || typeof p.reason === 'string');
      break;
    case 'APP':
      assert.ok(p.subtype >= 0 && p.subtype <= 31);
      assert.equal(p.name.length, 4);
      assert.ok(Buffer.isBuffer(p.data));
      break;
    case 'unknown':
      assert.ok(p.packetType >= 0 && p.packetType <= 255 && (p.packetType < 200 || p.packetType > 204));
      break;
  }
}

describe('parseRtcpCompound: fuzz', () => {
  test('random bytes never throw and every packet is sane', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = parseRtcpCompound(Buffer.from(bytes));
      assert.ok(r.error === null || typeof r.error === 'string');
      r.packets.forEach(assertSane);
    }), { numRuns: 3000 });
  });

  test('mutated valid compounds never throw and every packet is sane', () => {
    const base = Buffer.concat([SR_NO_BLOCKS, SDES_CNAME, hex('81cb0001 11223344'), hex('80cc0002 11223344 41424344')]);
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(base.length),
      (edits, cut) => {
        const b = Buffer.from(base);
        for (const [i, v] of edits) b[i] = v;
        const r = parseRtcpCompound(b.subarray(0, cut));
        r.packets.forEach(assertSane);
        if (cut === base.length && edits.length === 0) assert.equal(r.error, null);
      },
    ), { numRuns: 3000 });
  });
});
