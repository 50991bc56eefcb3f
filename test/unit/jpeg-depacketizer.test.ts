/**
 * RFC 2435 depacketizer against synthetic packets: one test per line of the checklist in
 * notes/rfc2435-rtcp.md §1.9. Scan data comes from real cjpeg files (test/fixtures/jpeg) so
 * emitted frames can be decoded and compared pixel for pixel with the original.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JpegDepacketizer, type JpegFrame } from '../../src/jpeg/depacketizer';
import type { RtpPacket } from '../../src/rtp/packet';
import { parseBaselineJpeg, JpegPacketizer } from '../../src/jpeg/packetizer';
import { qTablesForQ } from '../../src/jpeg/tables';
import { makeJpegHeader } from '../../src/jpeg/header';
import { countRestartMarkers, guessRestartInterval } from '../../src/jpeg/restart-repair';
import { decodeJpeg } from '../support/djpeg';

const FIX = join(__dirname, '..', 'fixtures', 'jpeg');
const fixture = (n: string): Buffer => readFileSync(join(FIX, n));

interface PacketSpec {
  seq?: number; ts?: number; ssrc?: number; marker?: boolean; pt?: number;
  offset?: number; type?: number; q?: number; w?: number; h?: number; typeSpec?: number;
  dri?: number; restartWord?: number;
  qh?: { mbz?: number; prec?: number; length?: number; data: Buffer };
  scan: Buffer;
  padding?: number; csrc?: number; ext?: { profile: number; data: Buffer };
}

/** One RTP/JPEG packet (RFC 3550 header + RFC 2435 §3.1 headers + scan bytes). */
function rtpJpeg(s: PacketSpec): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(12);
  const csrc = s.csrc ?? 0;
  h[0] = 0x80 | (s.padding ? 0x20 : 0) | (s.ext ? 0x10 : 0) | csrc;
  h[1] = (s.marker ? 0x80 : 0) | (s.pt ?? 26);
  h.writeUInt16BE((s.seq ?? 0) & 0xffff, 2);
  h.writeUInt32BE((s.ts ?? 1000) >>> 0, 4);
  h.writeUInt32BE((s.ssrc ?? 0x11223344) >>> 0, 8);
  parts.push(h, Buffer.alloc(4 * csrc, 0xcc));
  if (s.ext) {
    const eh = Buffer.alloc(4);
    eh.writeUInt16BE(s.ext.profile, 0);
    eh.writeUInt16BE(s.ext.data.length / 4, 2);
    parts.push(eh, s.ext.data);
  }
  const m = Buffer.alloc(8);
  const off = s.offset ?? 0;
  m[0] = s.typeSpec ?? 0; m[1] = off >> 16; m[2] = (off >> 8) & 255; m[3] = off & 255;
  m[4] = s.type ?? 1; m[5] = s.q ?? 255; m[6] = s.w ?? 40; m[7] = s.h ?? 30;
  parts.push(m);
  if (s.dri !== undefined) {
    const r = Buffer.alloc(4);
    r.writeUInt16BE(s.dri, 0);
    r.writeUInt16BE(s.restartWord ?? 0xffff, 2);
    parts.push(r);
  }
  if (s.qh) {
    const qh = Buffer.alloc(4);
    qh[0] = s.qh.mbz ?? 0; qh[1] = s.qh.prec ?? 0;
    qh.writeUInt16BE(s.qh.length ?? s.qh.data.length, 2);
    parts.push(qh, s.qh.data);
  }
  parts.push(s.scan);
  if (s.padding) {
    const p = Buffer.alloc(s.padding);
    p[s.padding - 1] = s.padding;
    parts.push(p);
  }
  return Buffer.concat(parts);
}

interface FrameSpec extends Omit<PacketSpec, 'scan' | 'offset' | 'marker' | 'seq'> {
  /** fragment sizes of the scan (last one takes the rest) */
  frag?: number;
  seq0?: number;
}

/** All packets of one frame: quant header only in the first, restart header in all. */
function framePackets(scan: Buffer, f: FrameSpec): Buffer[] {
  const size = f.frag ?? 1000;
  const out: Buffer[] = [];
  let off = 0;
  let i = 0;
  do {
    const n = Math.min(size, scan.length - off);
    out.push(rtpJpeg({ ...f, seq: (f.seq0 ?? 0) + i, offset: off, marker: off + n >= scan.length, scan: scan.subarray(off, off + n), qh: off === 0 ? f.qh : undefined }));
    off += n; i++;
  } while (off < scan.length);
  return out;
}

function pushAll(d: JpegDepacketizer, pkts: Buffer[]): JpegFrame[] {
  const out: JpegFrame[] = [];
  for (const p of pkts) { const f = d.push(p); if (f) out.push(f); }
  return out;
}

/** JPEG marker segments before SOS: [marker, payload] */
function segments(jpeg: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  let o = 2;
  while (o + 4 <= jpeg.length && jpeg[o] === 0xff) {
    const m = jpeg[o + 1]!;
    const len = jpeg.readUInt16BE(o + 2);
    out.push([m, jpeg.subarray(o + 4, o + 2 + len)]);
    if (m === 0xda) break;
    o += 2 + len;
  }
  return out;
}
const seg = (j: Buffer, m: number) => segments(j).filter(([k]) => k === m).map(([, b]) => b);

const q50 = parseBaselineJpeg(fixture('q50-420.jpg'));
const t65 = parseBaselineJpeg(fixture('type65-420-dri.jpg'));
const t64 = parseBaselineJpeg(fixture('type64-422-dri.jpg'));
const q30 = parseBaselineJpeg(fixture('q30-422.jpg'));
const tables128 = (i: typeof q50) => Buffer.concat([i.tables[0], i.tables[1]]);

function samePixels(a: Buffer, b: Buffer): void {
  const da = decodeJpeg(a);
  const db = decodeJpeg(b);
  assert.ok(da.ok, da.error);
  assert.ok(db.ok, db.error);
  assert.equal(da.width, db.width);
  assert.ok(da.pixels!.equals(db.pixels!), 'decoded pixels differ');
}

describe('JpegDepacketizer: types', () => {
  test('type 1 (4:2:0), Q 255 in-band: frame decodes to the original pixels; SOF says 2x2', () => {
    const d = new JpegDepacketizer();
    const [f] = pushAll(d, framePackets(q50.scan, { type: 1, q: 255, qh: { data: tables128(q50) } }));
    assert.ok(f);
    assert.equal(f.width, 320); assert.equal(f.height, 240);
    assert.equal(seg(f.jpeg, 0xc0)[0]![7], 0x22);
    samePixels(f.jpeg, fixture('q50-420.jpg'));
  });

  test('type 0 (4:2:2): SOF says 2x1 and pixels match', () => {
    const d = new JpegDepacketizer();
    const [f] = pushAll(d, framePackets(q30.scan, { type: 0, q: 255, qh: { data: tables128(q30) } }));
    assert.equal(seg(f!.jpeg, 0xc0)[0]![7], 0x21);
    samePixels(f!.jpeg, fixture('q30-422.jpg'));
  });

  test('type 65: restart header in every packet, DRI written, decodes', () => {
    const d = new JpegDepacketizer();
    const [f] = pushAll(d, framePackets(t65.scan, { type: 65, dri: 20, q: 255, qh: { data: tables128(t65) }, frag: 700 }));
    assert.ok(f);
    assert.deepEqual([...seg(f.jpeg, 0xdd)[0]!], [0, 20]);
    assert.equal(seg(f.jpeg, 0xc0)[0]![7], 0x22);
    samePixels(f.jpeg, fixture('type65-420-dri.jpg'));
  });

  test('type 64 is 4:2:2 + restart (not mapped to 4:2:0 as some depayloaders do)', () => {
    const d = new JpegDepacketizer();
    const [f] = pushAll(d, framePackets(t64.scan, { type: 64, dri: 20, q: 255, qh: { data: tables128(t64) }, frag: 900 }));
    assert.ok(f);
    assert.equal(seg(f.jpeg, 0xc0)[0]![7], 0x21);
    assert.deepEqual([f.type, f.q, f.restartInterval], [0, 255, 20]);
    samePixels(f.jpeg, fixture('type64-422-dri.jpg'));
  });

  test('restart interval 0 is invalid', () => {
    const d = new JpegDepacketizer();
    assert.deepEqual(pushAll(d, framePackets(t65.scan, { type: 65, dri: 0, q: 255, qh: { data: tables128(t65) } })), []);
    assert.equal(d.stats.invalidPackets, 1);
  });

  for (const type of [2, 63, 66, 128, 255]) {
    test(`unsupported type ${type} is counted and dropped`, () => {
      const d = new JpegDepacketizer();
      const pk = framePackets(q50.scan, { type, q: 50, dri: type >= 64 && type < 128 ? 20 : undefined });
      assert.deepEqual(pushAll(d, pk), []);
      assert.equal(d.stats.unsupportedType, 1);
      assert.equal(d.stats.framesDropped, 1);
      // then a good frame still works
      assert.equal(pushAll(d, framePackets(q50.scan, { type: 1, q: 50, ts: 5000, seq0: 100 })).length, 1);
    });
  }
});

describe('JpegDepacketizer: Q and quantization tables', () => {
  for (const q of [0, 100, 127]) {
    test(`Q ${q} is reserved and dropped`, () => {
      const d = new JpegDepacketizer();
      assert.deepEqual(pushAll(d, framePackets(q50.scan, { q })), []);
      assert.equal(d.stats.badQ, 1);
    });
  }

  test('Q 1..99: Appendix A tables in zig-zag order; cjpeg -quality 50 pixels reproduced exactly', () => {
    const d = new JpegDepacketizer();
    const [f] = pushAll(d, framePackets(q50.scan, { q: 50 }));
    const dqt = seg(f!.jpeg, 0xdb);
    assert.equal(dqt.length, 2);
    assert.deepEqual([...dqt[0]!.subarray(1, 9)], [0x10, 0x0b, 0x0c, 0x0e, 0x0c, 0x0a, 0x10, 0x0e]);
    assert.deepEqual([...dqt[1]!.subarray(1, 9)], [0x11, 0x12, 0x12, 0x18, 0x15, 0x18, 0x2f, 0x1a]);
    samePixels(f!.jpeg, fixture('q50-420.jpg'));
  });

  test('Q 30 type 0 from cjpeg -quality 30 -sample 2x1: pixels reproduced exactly', () => {
    const d = new JpegDepacketizer();
    const [f] = pushAll(d, framePackets(q30.scan, { type: 0, q: 30 }));
    samePixels(f!.jpeg, fixture('q30-422.jpg'));
  });

  test('Q 63 1920x1080 single packet (gortsplib vector shape): size from block counts, tables for Q 63', () => {
    const d = new JpegDepacketizer();
    const f = d.push(rtpJpeg({ type: 1, q: 63, w: 0xf0, h: 0x87, marker: true, scan: Buffer.from([1, 2]) }))!;
    assert.equal(f.width, 1920); assert.equal(f.height, 1080);
    const sof = seg(f.jpeg, 0xc0)[0]!;
    assert.equal(sof.readUInt16BE(1), 1080); assert.equal(sof.readUInt16BE(3), 1920);
    assert.deepEqual([...seg(f.jpeg, 0xdb)[0]!.subarray(1, 9)], [0x0c, 0x08, 0x09, 0x0a, 0x09, 0x07, 0x0c, 0x0a]);
    assert.deepEqual([...f.jpeg.subarray(-4)], [1, 2, 0xff, 0xd9]);
  });

  test('Q 128..255 in-band tables are used as sent (MBZ ≠ 0 tolerated)', () => {
    const d = new JpegDepacketizer();
    const luma = Buffer.alloc(64, 7); const chroma = Buffer.alloc(64, 9);
    const f = d.push(rtpJpeg({ q: 200, qh: { mbz: 5, data: Buffer.concat([luma, chroma]) }, marker: true, scan: Buffer.from([1]) }))!;
    const dqt = seg(f.jpeg, 0xdb);
    assert.deepEqual(dqt[0], Buffer.concat([Buffer.from([0]), luma]));
    assert.deepEqual(dqt[1], Buffer.concat([Buffer.from([1]), chroma]));
  });

  test('Length 64: one table, chroma components use table 0 (FFmpeg default)', () => {
    const d = new JpegDepacketizer();
    const f = d.push(rtpJpeg({ q: 255, qh: { data: q50.tables[0] }, marker: true, scan: Buffer.from([1]) }))!;
    const dqt = seg(f.jpeg, 0xdb);
    assert.equal(dqt.length, 1);
    const sof = seg(f.jpeg, 0xc0)[0]!;
    assert.deepEqual([sof[8], sof[11], sof[14]], [0, 0, 0]);
  });

  test('Length 128: two tables; Length 192: extra table ignored (v4l2rtspserver)', () => {
    const d = new JpegDepacketizer();
    const a = d.push(rtpJpeg({ q: 255, qh: { data: tables128(q50) }, marker: true, scan: Buffer.from([1]) }))!;
    const b = d.push(rtpJpeg({ ts: 2000, q: 255, qh: { data: Buffer.concat([tables128(q50), Buffer.alloc(64, 0x33)]) }, marker: true, scan: Buffer.from([1]) }))!;
    assert.ok(a.jpeg.equals(b.jpeg));
    const sof = seg(a.jpeg, 0xc0)[0]!;
    assert.deepEqual([sof[8], sof[11], sof[14]], [0, 1, 1]);
  });

  test('Length shorter than one table is rejected (badTables)', () => {
    const d = new JpegDepacketizer();
    assert.equal(d.push(rtpJpeg({ q: 255, qh: { data: Buffer.alloc(32, 1) }, marker: true, scan: Buffer.from([1]) })), null);
    assert.equal(d.stats.badTables, 1);
  });

  test('Length beyond the packet: packet discarded (RFC 2435 §3.1.8 MUST)', () => {
    const d = new JpegDepacketizer();
    assert.equal(d.push(rtpJpeg({ q: 255, qh: { length: 128, data: Buffer.alloc(100, 1) }, marker: true, scan: Buffer.alloc(0) })), null);
    assert.equal(d.stats.invalidPackets, 1);
  });

  test('precision bits: 16-bit tables narrowed to 8-bit when they fit, else DQT Pq=1', () => {
    const d = new JpegDepacketizer();
    const wide = (t: Buffer, hi = 0) => { const o = Buffer.alloc(128); for (let i = 0; i < 64; i++) o.writeUInt16BE(t[i]! + (i === 0 ? hi : 0), 2 * i); return o; };
    // table 0 16-bit, table 1 8-bit: Length 128 + 64
    const f = d.push(rtpJpeg({ q: 255, qh: { prec: 1, data: Buffer.concat([wide(q50.tables[0]), q50.tables[1]]) }, marker: true, scan: Buffer.from([1]) }))!;
    const g = d.push(rtpJpeg({ ts: 3000, q: 255, qh: { data: tables128(q50) }, marker: true, scan: Buffer.from([1]) }))!;
    assert.ok(f.jpeg.equals(g.jpeg), 'narrowed table gives the 8-bit header');
    // both 16-bit, luma has an entry > 255: kept as 16-bit with Pq=1
    const h = d.push(rtpJpeg({ ts: 4000, q: 255, qh: { prec: 3, data: Buffer.concat([wide(q50.tables[0], 300), wide(q50.tables[1])]) }, marker: true, scan: Buffer.from([1]) }))!;
    const dqt = seg(h.jpeg, 0xdb);
    assert.equal(dqt[0]![0], 0x10);
    assert.equal(dqt[0]!.length, 129);
    assert.equal(dqt[0]!.readUInt16BE(1), q50.tables[0]![0]! + 300);
    assert.equal(dqt[1]![0], 0x01);
    assert.equal(dqt[1]!.length, 65);
    // precision says 16-bit but only 64 bytes: too short
    assert.equal(d.push(rtpJpeg({ ts: 5000, q: 255, qh: { prec: 1, data: q50.tables[0] }, marker: true, scan: Buffer.from([1]) })), null);
    assert.equal(d.stats.badTables, 1);
  });

  test('Q 128..254: tables cached per Q, Length 0 reuses them; changed tables replace the cache', () => {
    const d = new JpegDepacketizer();
    assert.equal(d.push(rtpJpeg({ q: 200, qh: { data: Buffer.alloc(0) }, marker: true, scan: Buffer.from([1]) })), null, 'nothing cached yet');
    assert.equal(d.stats.badTables, 1);
    const a = d.push(rtpJpeg({ ts: 2, q: 200, qh: { data: tables128(q50) }, marker: true, scan: Buffer.from([1]) }))!;
    const b = d.push(rtpJpeg({ ts: 3, q: 200, qh: { data: Buffer.alloc(0) }, marker: true, scan: Buffer.from([1]) }))!;
    assert.ok(a.jpeg.equals(b.jpeg));
    assert.equal(d.push(rtpJpeg({ ts: 4, q: 201, qh: { data: Buffer.alloc(0) }, marker: true, scan: Buffer.from([1]) })), null, 'other Q not cached');
    d.push(rtpJpeg({ ts: 5, q: 200, qh: { data: tables128(q30) }, marker: true, scan: Buffer.from([1]) }));
    const c = d.push(rtpJpeg({ ts: 6, q: 200, qh: { data: Buffer.alloc(0) }, marker: true, scan: Buffer.from([1]) }))!;
    assert.deepEqual(seg(c.jpeg, 0xdb)[0]!.subarray(1), q30.tables[0]);
  });

  test('Q 255 is never cached and Length 0 is rejected', () => {
    const d = new JpegDepacketizer();
    assert.ok(d.push(rtpJpeg({ q: 255, qh: { data: tables128(q50) }, marker: true, scan: Buffer.from([1]) })));
    assert.equal(d.push(rtpJpeg({ ts: 2, q: 255, qh: { data: Buffer.alloc(0) }, marker: true, scan: Buffer.from([1]) })), null);
    assert.equal(d.stats.badTables, 1);
  });

  test('quant header only in the first packet; later packets carry pure scan data', () => {
    const d = new JpegDepacketizer();
    const [f] = pushAll(d, framePackets(q50.scan, { q: 255, qh: { data: tables128(q50) }, frag: 300 }));
    assert.ok(f!.jpeg.subarray(-q50.scan.length).equals(q50.scan));
  });
});

describe('JpegDepacketizer: dimensions', () => {
  test('width/height 0 without any out-of-band size: dropped and counted', () => {
    const d = new JpegDepacketizer();
    assert.deepEqual(pushAll(d, framePackets(q50.scan, { q: 50, w: 0, h: 0 })), []);
    assert.equal(d.stats.dimensionsMissing, 1);
  });

  // RFC 2435 §3.1.5/§3.1.6: one field can be 0 alone, e.g. a 2048-px-wide camera (2048/8 = 256
  // does not fit the byte) whose height fits. Such a packet has no usable size either.
  for (const [what, w, h] of [['width', 0, 30], ['height', 40, 0]] as const) {
    test(`${what} alone 0 without any out-of-band size: dropped and counted, not a ${w * 8}x${h * 8} JPEG`, () => {
      const d = new JpegDepacketizer();
      assert.deepEqual(pushAll(d, framePackets(q50.scan, { q: 50, w, h })), []);
      assert.equal(d.stats.dimensionsMissing, 1);
    });
  }

  test('width alone 0 (2048 x 1536) with setDimensions: the SDP size, both fields of it', () => {
    const d = new JpegDepacketizer();
    d.setDimensions(2048, 1536);
    const f = d.push(rtpJpeg({ q: 50, w: 0, h: 1536 / 8, marker: true, scan: Buffer.from([1]) }))!;
    assert.deepEqual([f.width, f.height], [2048, 1536]);
    const sof = seg(f.jpeg, 0xc0)[0]!;
    assert.deepEqual([sof.readUInt16BE(3), sof.readUInt16BE(1)], [2048, 1536], 'SOF0 width, height');
  });

  test('width/height 0 with setDimensions (SDP a=x-dimensions)', () => {
    const d = new JpegDepacketizer();
    d.setDimensions(320, 240);
    const [f] = pushAll(d, framePackets(q50.scan, { q: 50, w: 0, h: 0 }));
    assert.equal(f!.width, 320);
    samePixels(f!.jpeg, fixture('q50-420.jpg'));
  });

  test('setDimensions does not override a non-zero packet size; constructor override always wins', () => {
    const d = new JpegDepacketizer();
    d.setDimensions(640, 480);
    assert.equal(d.push(rtpJpeg({ q: 50, marker: true, scan: Buffer.from([1]) }))!.width, 320);
    const o = new JpegDepacketizer({ width: 2560, height: 1440 });
    const f = o.push(rtpJpeg({ q: 50, w: 64, h: 180, marker: true, scan: Buffer.from([1]) }))!; // FFmpeg's size mod 2048
    assert.equal(f.width, 2560); assert.equal(f.height, 1440);
    const sof = seg(f.jpeg, 0xc0)[0]!;
    assert.equal(sof.readUInt16BE(3), 2560);
  });

  test('ONVIF 0xFFD8 header extension SOF gives the size when the packet says 0', () => {
    const d = new JpegDepacketizer();
    const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0x0b, 0x40, 0x0f, 0x00, 0x03, 0x00, 0x22, 0x00, 0x01, 0x11, 0x01, 0x02, 0x11, 0x01]);
    const ext = Buffer.concat([sof, Buffer.alloc(4 - (sof.length % 4), 0xff)]);
    const f = d.push(rtpJpeg({ q: 50, w: 0, h: 0, ext: { profile: 0xffd8, data: ext }, marker: true, scan: Buffer.from([1]) }))!;
    assert.equal(f.width, 3840); assert.equal(f.height, 2880);
    // "width=height=0 means reuse previous SOF"
    const g = d.push(rtpJpeg({ ts: 2, q: 50, w: 0, h: 0, marker: true, scan: Buffer.from([1]) }))!;
    assert.equal(g.width, 3840);
    // an SOF in the extension takes precedence over a non-zero RFC 2435 size (ONVIF Streaming)
    const e = new JpegDepacketizer();
    const h2 = e.push(rtpJpeg({ q: 50, w: 40, h: 30, ext: { profile: 0xffd8, data: ext }, marker: true, scan: Buffer.from([1]) }))!;
    assert.equal(h2.width, 3840); assert.equal(h2.height, 2880);
    assert.equal(seg(h2.jpeg, 0xc0)[0]!.readUInt16BE(3), 3840);
    // without the extension the packet's own size is used again
    assert.equal(e.push(rtpJpeg({ ts: 3, q: 50, w: 40, h: 30, marker: true, scan: Buffer.from([1]) }))!.width, 320);
  });
});

describe('JpegDepacketizer: frame assembly and loss', () => {
  const good = () => framePackets(q50.scan, { q: 50, frag: 1000, ts: 9000, seq0: 50 });

  test('offset gap (lost middle packet): whole frame dropped, next frame fine', () => {
    const d = new JpegDepacketizer();
    const pk = good();
    pk.splice(2, 1);
    assert.deepEqual(pushAll(d, pk), []);
    assert.equal(d.stats.lostFragments, 1);
    assert.equal(d.stats.framesDropped, 1);
    assert.equal(pushAll(d, framePackets(q50.scan, { q: 50, ts: 12600 })).length, 1);
  });

  test('lost first packet: rest of the frame ignored, counted once', () => {
    const d = new JpegDepacketizer();
    assert.deepEqual(pushAll(d, good().slice(1)), []);
    assert.equal(d.stats.framesDropped, 1);
    assert.equal(d.stats.lostFragments, 1);
  });

  test('duplicate packet inside a frame is an offset mismatch: frame dropped', () => {
    const d = new JpegDepacketizer();
    const pk = good();
    pk.splice(2, 0, pk[1]!);
    assert.deepEqual(pushAll(d, pk), []);
    assert.equal(d.stats.framesDropped, 1);
  });

  test('late duplicate of a finished frame is ignored quietly', () => {
    const d = new JpegDepacketizer();
    const pk = good();
    assert.equal(pushAll(d, [...pk, pk[3]!]).length, 1);
    assert.equal(d.stats.framesDropped, 0);
  });

  test('timestamp change mid-frame: frame dropped and counted', () => {
    const d = new JpegDepacketizer();
    const pk = good();
    const bad = framePackets(q50.scan, { q: 50, frag: 1000, ts: 9001, seq0: 50 });
    pk[3] = bad[3]!;
    assert.deepEqual(pushAll(d, pk), []);
    assert.equal(d.stats.timestampChanges, 1);
  });

  test('SSRC change mid-frame drops the frame', () => {
    const d = new JpegDepacketizer();
    const pk = good();
    const other = framePackets(q50.scan, { q: 50, frag: 1000, ts: 9000, ssrc: 7, seq0: 50 });
    for (let i = 2; i < pk.length; i++) pk[i] = other[i]!;
    assert.deepEqual(pushAll(d, pk), []);
    assert.equal(d.stats.framesDropped, 1);
  });

  test('lost marker packet: dropped when the next frame starts, the next frame is kept', () => {
    const d = new JpegDepacketizer();
    const a = good();
    a.pop();
    const b = framePackets(q50.scan, { q: 50, ts: 12600, seq0: 60 });
    const out = pushAll(d, [...a, ...b]);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.rtpTimestamp, 12600);
    assert.equal(d.stats.framesDropped, 1);
  });

  test('sender restarting a frame with the same timestamp (no marker) keeps the new one', () => {
    const d = new JpegDepacketizer();
    const a = good().slice(0, 2);
    const out = pushAll(d, [...a, ...good()]);
    assert.equal(out.length, 1);
  });

  test('EOI appended only when missing; not doubled; EOI split across fragments detected', () => {
    const d = new JpegDepacketizer();
    const withEoi = Buffer.from([1, 2, 3, 0xff, 0xd9]);
    const f1 = pushAll(d, framePackets(withEoi, { q: 50, frag: 4 }))[0]!; // FF | D9 split
    assert.deepEqual([...f1.jpeg.subarray(-5)], [1, 2, 3, 0xff, 0xd9]);
    const f2 = pushAll(d, framePackets(withEoi, { q: 50, ts: 2, frag: 1 }))[0]!;
    assert.deepEqual([...f2.jpeg.subarray(-5)], [1, 2, 3, 0xff, 0xd9]);
    const f3 = pushAll(d, framePackets(Buffer.from([1, 2, 3]), { q: 50, ts: 3 }))[0]!;
    assert.deepEqual([...f3.jpeg.subarray(-5)], [1, 2, 3, 0xff, 0xd9]);
    const f4 = pushAll(d, framePackets(Buffer.from([0xd9, 0xff]), { q: 50, ts: 4 }))[0]!; // D9 FF is not EOI
    assert.deepEqual([...f4.jpeg.subarray(-4)], [0xd9, 0xff, 0xff, 0xd9]);
    const hdr = makeJpegHeader({ type: 1, width: 320, height: 240, luma: qTablesForQ(50)!.luma, chroma: qTablesForQ(50)!.chroma, restartInterval: 0 });
    assert.equal(f3.jpeg.length, hdr.length + 3 + 2, 'exact-size buffer');
    assert.ok(f3.jpeg.subarray(0, hdr.length).equals(hdr));
  });

  test('a scan ending in D9 after a byte other than FF still gets its EOI (both bytes are checked)', () => {
    // Entropy-coded data may end in any byte followed by D9; only FF D9 is the marker (T.81 B.1.1.2).
    const d = new JpegDepacketizer();
    for (const [i, tail] of [[0x12, 0xd9], [0x00, 0xd9], [0xfe, 0xd9], [0xd9, 0xd9]].entries()) {
      const scan = Buffer.from([1, 2, 3, ...tail]);
      for (const frag of [undefined, 4]) {
        const f = pushAll(d, framePackets(scan, { q: 50, ts: 10 + 2 * i + (frag ? 1 : 0), ...(frag ? { frag } : {}) }))[0]!;
        assert.deepEqual([...f.jpeg.subarray(-7)], [1, 2, 3, ...tail, 0xff, 0xd9], `scan …${tail.map((b) => b.toString(16)).join(' ')} split ${frag ?? 'none'}`);
      }
    }
    // and a frame that already ends with FF D9 in a single one-byte last fragment is not doubled
    const one = pushAll(d, framePackets(Buffer.from([1, 2, 0xff, 0xd9]), { q: 50, ts: 40, frag: 1 }))[0]!;
    assert.deepEqual([...one.jpeg.subarray(-4)], [1, 2, 0xff, 0xd9]);
  });

  test('size cap: frames beyond maxFrameBytes are dropped and counted; smaller ones pass', () => {
    const d = new JpegDepacketizer({ maxFrameBytes: 4000 });
    assert.deepEqual(pushAll(d, framePackets(q50.scan, { q: 50 })), []);
    assert.equal(d.stats.oversize, 1);
    assert.equal(d.stats.framesDropped, 1);
    const ok = pushAll(d, framePackets(Buffer.alloc(1000, 1), { q: 50, ts: 77 }));
    assert.equal(ok.length, 1);
    assert.ok(ok[0]!.jpeg.length <= 4000);
  });

  test('packet cap: a frame split into more than maxFramePackets tiny fragments is dropped early', () => {
    // 1-byte fragments: far below the byte limit, but each held packet pins a Buffer object.
    const d = new JpegDepacketizer({ maxFramePackets: 1000 });
    const tiny = framePackets(Buffer.alloc(1500, 1), { q: 50, frag: 1 });
    assert.equal(tiny.length, 1500);
    assert.deepEqual(pushAll(d, tiny), []);
    assert.equal(d.stats.oversize, 1);
    assert.equal(d.stats.framesDropped, 1);
    // the same frame in 2 packets passes, and so does one at exactly the cap
    assert.equal(pushAll(d, framePackets(Buffer.alloc(1500, 1), { q: 50, frag: 750, ts: 5 })).length, 1);
    assert.equal(pushAll(d, framePackets(Buffer.alloc(1000, 1), { q: 50, frag: 1, ts: 6 })).length, 1);
    // the default cap is 65536 packets
    const dflt = new JpegDepacketizer();
    assert.deepEqual(pushAll(dflt, framePackets(Buffer.alloc(65537, 1), { q: 50, frag: 1 })), []);
    assert.equal(dflt.stats.oversize, 1);
  });

  test('RTP padding, CSRC and header extension around the JPEG payload', () => {
    const d = new JpegDepacketizer();
    const plain = pushAll(d, framePackets(q50.scan, { q: 50 }))[0]!;
    const e = new JpegDepacketizer();
    const fancy = pushAll(e, framePackets(q50.scan, { q: 50, padding: 4, csrc: 2, ext: { profile: 0xabac, data: Buffer.alloc(12, 0x5a) } }))[0]!;
    assert.ok(plain.jpeg.equals(fancy.jpeg));
  });

  test('payload shorter than the main header, restart header or quant header is invalid', () => {
    const d = new JpegDepacketizer();
    const h = Buffer.alloc(12); h[0] = 0x80; h[1] = 0x80 | 26;
    assert.equal(d.push(Buffer.concat([h, Buffer.alloc(7)])), null);
    assert.equal(d.push(Buffer.concat([h, Buffer.from([0, 0, 0, 0, 65, 50, 40, 30, 0, 20])])), null);
    assert.equal(d.push(Buffer.concat([h, Buffer.from([0, 0, 0, 0, 1, 255, 40, 30, 0, 0])])), null);
    assert.equal(d.push(Buffer.from([0x40, 1, 2])), null);
    assert.equal(d.stats.invalidPackets, 4);
    assert.equal(d.stats.packets, 4);
  });

  test('frame fields: rtpTimestamp, ssrc, type, Q, DRI, and one copy (payload buffers not retained)', () => {
    const d = new JpegDepacketizer();
    const pk = framePackets(q50.scan, { q: 50, ts: 0xfffffff0, ssrc: 0xcafebabe });
    const [f] = pushAll(d, pk);
    assert.equal(f!.rtpTimestamp, 0xfffffff0);
    assert.equal(f!.ssrc, 0xcafebabe);
    assert.deepEqual([f!.type, f!.q, f!.restartInterval], [1, 50, 0]);
    for (const p of pk) p.fill(0);
    samePixels(f!.jpeg, fixture('q50-420.jpg'));
  });
});

describe('restart marker repair (RST in scan, no restart header)', () => {
  test('interval guess from marker count', () => {
    assert.equal(guessRestartInterval(320, 240, 1, 14), 20); // FFmpeg slice threads: one row
    assert.equal(guessRestartInterval(320, 240, 1, 7), 40); // two rows
    assert.equal(guessRestartInterval(320, 240, 0, 29), 20); // 4:2:2: 30 MCU rows
    assert.equal(guessRestartInterval(320, 240, 1, 0), 0);
    assert.equal(guessRestartInterval(320, 240, 1, 1000), 0);
  });

  test('markers counted in a scan region, fill bytes and stuffing ignored', () => {
    assert.equal(countRestartMarkers(Buffer.from([0xff, 0x00, 0xff, 0xd0, 1, 0xff])), 1);
    assert.equal(countRestartMarkers(Buffer.from([1, 0xff, 0xd0, 0xff, 0xff, 0xd1, 0xff, 0xd4])), 3);
    assert.equal(countRestartMarkers(Buffer.from([0xff, 0xd9, 0xd0])), 0);
    // only the region [start, end) counts
    const b = Buffer.from([0xff, 0xd0, 7, 0xff, 0xd0, 0xff, 0xd1, 0xff, 0xd2]);
    assert.equal(countRestartMarkers(b, 3, 7), 2);
    assert.equal(countRestartMarkers(b, 2, 3), 0);
    // a scan with RST1.. but no RST0 is not a restart scan (T.81 counts from RST0)
    assert.equal(countRestartMarkers(Buffer.from([0xff, 0xd1, 0xff, 0xd2])), 0);
  });

  test('type 1 frame with RSTn but no restart header gets a DRI and decodes; disabled → no DRI', () => {
    const d = new JpegDepacketizer();
    const [f] = pushAll(d, framePackets(t65.scan, { type: 1, q: 255, qh: { data: tables128(t65) } }));
    assert.deepEqual([...seg(f!.jpeg, 0xdd)[0]!], [0, 20]);
    assert.equal(d.stats.restartRepaired, 1);
    assert.deepEqual([f!.type, f!.q, f!.restartInterval], [1, 255, 20], 'type/Q/DRI reported with the frame');
    samePixels(f!.jpeg, fixture('type65-420-dri.jpg'));
    const off = new JpegDepacketizer({ repairRestartMarkers: false });
    const [g] = pushAll(off, framePackets(t65.scan, { type: 1, q: 255, qh: { data: tables128(t65) } }));
    assert.equal(seg(g!.jpeg, 0xdd).length, 0);
  });

  test('interval of 3 MCUs (not a whole row) is found as well', () => {
    const t3 = parseBaselineJpeg(fixture('type65-420-dri3blocks.jpg'));
    const d = new JpegDepacketizer();
    const [f] = pushAll(d, framePackets(t3.scan, { type: 1, q: 255, qh: { data: tables128(t3) } }));
    assert.deepEqual([...seg(f!.jpeg, 0xdd)[0]!], [0, 3]);
    samePixels(f!.jpeg, fixture('type65-420-dri3blocks.jpg'));
  });
});

describe('restart repair sampling (the RST0 search is a second pass over every byte)', () => {
  const clean = (ts: number, q = 255): Buffer[] => framePackets(q50.scan, { type: 1, q, ts, qh: { data: tables128(q50) } });
  const withRst = (ts: number, q = 255): Buffer[] => framePackets(t65.scan, { type: 1, q, ts, qh: { data: tables128(t65) } });

  test('after 16 clean frames of one configuration only every 32nd is searched; once RSTs are seen, every frame', () => {
    const d = new JpegDepacketizer();
    let ts = 0;
    for (let i = 0; i < 16; i++) pushAll(d, clean(ts += 3000));
    const repaired: boolean[] = [];
    for (let i = 0; i < 48; i++) {
      const [f] = pushAll(d, withRst(ts += 3000));
      repaired.push(f!.restartInterval === 20);
    }
    const first = repaired.indexOf(true);
    assert.ok(first >= 0 && first < 32, `RSTs noticed within one sampling period (frame ${first})`);
    assert.ok(repaired.slice(first).every(Boolean), 'then every frame is repaired');
    const [f] = pushAll(d, withRst(ts += 3000));
    samePixels(f!.jpeg, fixture('type65-420-dri.jpg'));
  });

  test('a new configuration (Q, size, type or SSRC) is searched from its first frame', () => {
    const d = new JpegDepacketizer();
    let ts = 0;
    for (let i = 0; i < 40; i++) pushAll(d, clean(ts += 3000));
    const [f] = pushAll(d, withRst(ts += 3000, 254));
    assert.equal(f!.restartInterval, 20, 'Q change');
    const e = new JpegDepacketizer();
    for (let i = 0; i < 40; i++) pushAll(e, clean(ts += 3000));
    const [g] = pushAll(e, framePackets(t65.scan, { type: 1, q: 255, ts: ts += 3000, ssrc: 0x999, qh: { data: tables128(t65) } }));
    assert.equal(g!.restartInterval, 20, 'SSRC change');
  });
});

describe('JpegDepacketizer: frame memory, header reuse, packet objects', () => {
  test('every frame owns an exact-size ArrayBuffer (even a small one: no shared pool slice)', () => {
    const d = new JpegDepacketizer();
    const [small] = pushAll(d, framePackets(q50.scan.subarray(0, 100), { q: 50 }));
    const [big] = pushAll(d, framePackets(q50.scan, { q: 50, ts: 5000 }));
    for (const f of [small!, big!]) {
      assert.equal(f.jpeg.byteOffset, 0);
      assert.equal(f.jpeg.buffer.byteLength, f.jpeg.length);
    }
  });

  test('header reused while parameters stay, rebuilt when tables, type, size or DRI change', () => {
    const d = new JpegDepacketizer();
    let ts = 0;
    const check = (pk: Buffer[], ref: string): void => {
      const [f] = pushAll(d, pk);
      samePixels(f!.jpeg, fixture(ref));
    };
    for (let round = 0; round < 2; round++) {
      check(framePackets(q50.scan, { type: 1, q: 255, ts: ts += 3000, qh: { data: tables128(q50) } }), 'q50-420.jpg');
      check(framePackets(q50.scan, { type: 1, q: 255, ts: ts += 3000, qh: { data: tables128(q50) } }), 'q50-420.jpg');
      check(framePackets(q30.scan, { type: 0, q: 255, ts: ts += 3000, qh: { data: tables128(q30) } }), 'q30-422.jpg');
      check(framePackets(q50.scan, { q: 50, ts: ts += 3000 }), 'q50-420.jpg');
      check(framePackets(t65.scan, { type: 65, q: 255, ts: ts += 3000, dri: 20, qh: { data: tables128(t65) } }), 'type65-420-dri.jpg');
    }
    // Tables changed in place by the sender between frames (same Q 255): new header.
    const t = tables128(q50);
    check(framePackets(q50.scan, { type: 1, q: 255, ts: ts += 3000, qh: { data: t } }), 'q50-420.jpg');
    const [f] = pushAll(d, framePackets(q50.scan, { type: 1, q: 255, ts: ts += 3000, qh: { data: Buffer.from(t).fill(1, 0, 64) } }));
    assert.ok(seg(f!.jpeg, 0xdb)[0]!.subarray(1).every((x) => x === 1), 'luma DQT of the new tables');
  });

  test('pushPacket accepts a plain RtpPacket object (not from parseRtpPacket)', () => {
    const d = new JpegDepacketizer();
    const frames: JpegFrame[] = [];
    const pk = framePackets(q50.scan, { q: 50 });
    pk.forEach((b, i) => {
      const p: RtpPacket = {
        marker: i === pk.length - 1, payloadType: 26, sequenceNumber: i, timestamp: 1000, ssrc: 0x11223344,
        payload: Buffer.from(b.subarray(12)), extensionProfile: -1, extension: null,
      };
      const f = d.pushPacket(p);
      if (f) frames.push(f);
    });
    assert.equal(frames.length, 1);
    samePixels(frames[0]!.jpeg, fixture('q50-420.jpg'));
  });
});

describe('whole frames lost (every packet) are counted from the RTP timestamps', () => {
  const jpeg = readFileSync(join(__dirname, '..', 'fixtures', 'vectors', 'reference', 'gst-tcp-320x240', 'gst-00000.jpg'));
  const frames = (n: number, step = 3600, mtu = 600): Buffer[][] => {
    const p = new JpegPacketizer({ ssrc: 0x1234, mtu, initialSequence: 65500 });
    const out: Buffer[][] = [];
    for (let i = 0; i < n; i++) out.push(p.packetize(jpeg, (0xfffff000 + i * step) >>> 0));
    return out;
  };

  test('two frames lost whole across a sequence gap: 2 missing, counted as dropped', () => {
    const all = frames(10);
    const d = new JpegDepacketizer();
    let emitted = 0;
    all.forEach((pkts, i) => { if (i === 3 || i === 4) return; for (const pk of pkts) if (d.push(pk)) emitted++; });
    assert.equal(emitted, 8);
    assert.equal(d.stats.framesMissing, 2);
    assert.equal(d.stats.framesDropped, 2);
  });

  test('a frame partly lost and the next one lost whole: 1 dropped + 1 missing', () => {
    const all = frames(8);
    const d = new JpegDepacketizer();
    let emitted = 0;
    all.forEach((pkts, i) => {
      if (i === 4) return;
      pkts.forEach((pk, j) => { if (i === 3 && j === 1) return; if (d.push(pk)) emitted++; });
    });
    assert.equal(emitted, 6);
    assert.equal(d.stats.framesMissing, 1);
    assert.equal(d.stats.framesDropped, 2);
  });

  test('no sequence gap: a variable frame interval is never charged as loss', () => {
    const p = new JpegPacketizer({ ssrc: 7, mtu: 600 });
    const d = new JpegDepacketizer();
    let ts = 1000;
    for (const step of [3600, 3600, 18000, 3600, 36000, 3600]) { ts += step; for (const pk of p.packetize(jpeg, ts)) d.push(pk); }
    assert.equal(d.stats.framesEmitted, 6);
    assert.equal(d.stats.framesMissing, 0);
    assert.equal(d.stats.framesDropped, 0);
  });

  test('a sender pause next to one lost packet is not charged as the paused frames', () => {
    const all = frames(12);
    const d = new JpegDepacketizer();
    // frames 0-4 whole, frame 5 loses its marker packet, frames 6-9 are never sent (pause:
    // no sequence numbers used), frames 10-11 whole.
    const p2 = new JpegPacketizer({ ssrc: 0x1234, mtu: 600, initialSequence: 100 });
    const seqFrames = all.map((_, i) => (i >= 6 && i <= 9 ? null : p2.packetize(jpeg, (0xfffff000 + i * 3600) >>> 0)));
    seqFrames.forEach((pkts, i) => { if (!pkts) return; pkts.forEach((pk, j) => { if (i === 5 && j === pkts.length - 1) return; d.push(pk); }); });
    assert.equal(d.stats.framesEmitted, 7);
    assert.equal(d.stats.framesMissing, 0);
    assert.equal(d.stats.framesDropped, 1);
  });

  test('a huge gap (sender pause / resync) is not counted as hundreds of lost frames', () => {
    const p = new JpegPacketizer({ ssrc: 9, mtu: 600 });
    const d = new JpegDepacketizer();
    for (let i = 0; i < 3; i++) for (const pk of p.packetize(jpeg, i * 3600)) d.push(pk);
    p.nextSequence = (p.nextSequence + 500) & 0xffff;
    for (const pk of p.packetize(jpeg, 3 * 3600 + 90000 * 3600)) d.push(pk);
    assert.equal(d.stats.framesMissing, 0);
    assert.equal(d.stats.framesEmitted, 4);
  });
});
