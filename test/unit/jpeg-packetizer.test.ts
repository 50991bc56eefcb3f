import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JpegPacketizer, parseBaselineJpeg } from '../../src/jpeg/packetizer';
import { JpegDepacketizer, type JpegFrame } from '../../src/jpeg/depacketizer';
import { parseRtpPacket } from '../../src/rtp/packet';
import { vectorPackets } from '../support/pcap';
import { decodeJpeg } from '../support/djpeg';

const VEC = join(__dirname, '..', 'fixtures', 'vectors');
const FIX = join(__dirname, '..', 'fixtures', 'jpeg');
const fixture = (n: string): Buffer => readFileSync(join(FIX, n));

interface RefMeta { frames: { rtpTimestamp: number; gst: string | null }[]; xDimensions: [number, number] | null }
const meta = (name: string) => JSON.parse(readFileSync(join(VEC, 'reference', name, 'meta.json'), 'utf8')) as RefMeta;
const refJpeg = (name: string, file: string) => readFileSync(join(VEC, 'reference', name, file));

function roundTrip(packets: Buffer[], dep = new JpegDepacketizer()): JpegFrame[] {
  const out: JpegFrame[] = [];
  for (const p of packets) { const f = dep.push(p); if (f) out.push(f); }
  return out;
}

describe('JpegPacketizer', () => {
  test('reproduces GStreamer rtpjpegpay packets byte for byte (types 1, 65, 0)', () => {
    for (const name of ['gst-tcp-320x240', 'gst-dri-tcp', 'gst-type0-422-tcp']) {
      const m = meta(name);
      const { rtp } = vectorPackets(join(VEC, `${name}.pcap`), 26);
      for (const fr of m.frames.slice(0, 5)) {
        const wire = rtp.filter((p) => p.packet.readUInt32BE(4) === fr.rtpTimestamp).map((p) => p.packet);
        const pz = new JpegPacketizer({ ssrc: wire[0]!.readUInt32BE(8), initialSequence: wire[0]!.readUInt16BE(2) });
        const ours = pz.packetize(refJpeg(name, fr.gst!), fr.rtpTimestamp);
        assert.equal(ours.length, wire.length, name);
        ours.forEach((b, i) => assert.ok(b.equals(wire[i]!), `${name} ts ${fr.rtpTimestamp} packet ${i}`));
      }
    }
  });

  test('round trip of reference JPEGs is byte-identical, at several MTUs, MTU respected', () => {
    for (const name of ['gst-tcp-320x240', 'gst-dri-udp', 'gst-type0-422-tcp', 'gst-udp-rtcp-160x120-25s']) {
      const frames = meta(name).frames.slice(0, 8);
      for (const mtu of [300, 576, 1400, 1500, 9000]) {
        const pz = new JpegPacketizer({ ssrc: 42, mtu, initialSequence: 65530 });
        const dep = new JpegDepacketizer();
        for (const fr of frames) {
          const src = refJpeg(name, fr.gst!);
          const pk = pz.packetize(src, fr.rtpTimestamp);
          for (const p of pk) assert.ok(p.length <= mtu, `packet ${p.length} > mtu ${mtu}`);
          assert.equal(pk.filter((p) => (p[1]! & 0x80) !== 0).length, 1);
          assert.ok((pk[pk.length - 1]![1]! & 0x80) !== 0, 'marker on the last packet');
          const out = roundTrip(pk, dep);
          assert.equal(out.length, 1);
          assert.ok(out[0]!.jpeg.equals(src), `${name} mtu ${mtu} ts ${fr.rtpTimestamp}`);
          assert.equal(out[0]!.rtpTimestamp, fr.rtpTimestamp);
          assert.equal(out[0]!.ssrc, 42);
        }
      }
    }
  });

  test('> 2040 px: width/height 0 on the wire, size from setDimensions (a=x-dimensions)', () => {
    const name = 'gst-large-2560x1440-3fps-tcp';
    const fr = meta(name).frames[0]!;
    const src = refJpeg(name, fr.gst!);
    const pk = new JpegPacketizer({ ssrc: 1 }).packetize(src, fr.rtpTimestamp);
    const first = parseRtpPacket(pk[0]!)!;
    assert.deepEqual([first.payload[6], first.payload[7]], [0, 0]);
    const dep = new JpegDepacketizer();
    dep.setDimensions(2560, 1440);
    const [f] = roundTrip(pk, dep);
    assert.ok(f!.jpeg.equals(src));
  });

  test('zeroDimensions option sends 0×0', () => {
    const pk = new JpegPacketizer({ ssrc: 1 }).packetize(fixture('q50-420.jpg'), 0, { zeroDimensions: true });
    const p = parseRtpPacket(pk[0]!)!;
    assert.deepEqual([p.payload[6], p.payload[7]], [0, 0]);
  });

  test('cjpeg files: DRI → type 64/65 with restart header in every packet; round trip decodes to the same pixels', () => {
    for (const [file, type] of [['type64-422-dri.jpg', 64], ['type65-420-dri.jpg', 65], ['q30-422.jpg', 0], ['q50-420.jpg', 1]] as const) {
      const src = fixture(file);
      const pk = new JpegPacketizer({ ssrc: 1, mtu: 800 }).packetize(src, 1234);
      for (const b of pk) {
        const p = parseRtpPacket(b)!;
        assert.equal(p.payload[4], type);
        if (type >= 64) assert.deepEqual([...p.payload.subarray(8, 12)], [0, 20, 0xff, 0xff]);
      }
      const [f] = roundTrip(pk);
      const a = decodeJpeg(f!.jpeg);
      const b = decodeJpeg(src);
      assert.ok(a.ok, a.error);
      assert.ok(a.pixels!.equals(b.pixels!), file);
    }
  });

  test('Q 1..99: no tables on the wire; the JPEG must use Appendix A tables for that Q', () => {
    const src = fixture('q50-420.jpg');
    const pk = new JpegPacketizer({ ssrc: 1 }).packetize(src, 0, { q: 50 });
    const p = parseRtpPacket(pk[0]!)!;
    assert.equal(p.payload[5], 50);
    assert.equal(p.payload.length, 8 + Math.min(1400 - 20, parseBaselineJpeg(src).scan.length), 'no quant header');
    const [f] = roundTrip(pk);
    assert.ok(decodeJpeg(f!.jpeg).pixels!.equals(decodeJpeg(src).pixels!));
    assert.throws(() => new JpegPacketizer({ ssrc: 1 }).packetize(src, 0, { q: 51 }), /Appendix A tables for Q=51/);
    assert.throws(() => new JpegPacketizer({ ssrc: 1 }).packetize(src, 0, { q: 100 }), /reserved/);
    assert.throws(() => new JpegPacketizer({ ssrc: 1 }).packetize(src, 0, { q: 0 }), /reserved/);
  });

  test('Q 128..254: tables in-band the first time only (static mapping), receiver uses its cache', () => {
    const src = fixture('q50-420.jpg');
    const pz = new JpegPacketizer({ ssrc: 1 });
    const a = pz.packetize(src, 0, { q: 150 });
    const b = pz.packetize(src, 3600, { q: 150 });
    const pa = parseRtpPacket(a[0]!)!;
    const pb = parseRtpPacket(b[0]!)!;
    assert.equal(pa.payload.readUInt16BE(10), 128);
    assert.equal(pb.payload.readUInt16BE(10), 0);
    const dep = new JpegDepacketizer();
    const [fa] = roundTrip(a, dep);
    const [fb] = roundTrip(b, dep);
    assert.ok(fa!.jpeg.equals(fb!.jpeg));
    // Q 255: every frame carries tables
    const c = pz.packetize(src, 7200);
    const d = pz.packetize(src, 10800);
    assert.equal(parseRtpPacket(c[0]!)!.payload.readUInt16BE(10), 128);
    assert.equal(parseRtpPacket(d[0]!)!.payload.readUInt16BE(10), 128);
  });

  test('sequence numbers continue across frames and wrap', () => {
    const pz = new JpegPacketizer({ ssrc: 9, initialSequence: 65534 });
    const pk = [...pz.packetize(fixture('q50-420.jpg'), 0, { q: 50 }), ...pz.packetize(fixture('q50-420.jpg'), 1, { q: 50 })];
    const seqs = pk.map((b) => b.readUInt16BE(2));
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1]! + 1) & 0xffff);
    assert.equal(pz.nextSequence, (65534 + pk.length) & 0xffff);
  });

  test('refuses what RFC 2435 types 0/1 cannot carry, with a clear error', () => {
    const pz = new JpegPacketizer({ ssrc: 1 });
    assert.throws(() => pz.packetize(fixture('progressive.jpg'), 0), /SOF2/);
    assert.throws(() => pz.packetize(fixture('sample444.jpg'), 0), /luma sampling 1x1/);
    assert.throws(() => pz.packetize(fixture('gray.jpg'), 0), /1 components/);
    assert.throws(() => pz.packetize(fixture('optimized-huffman.jpg'), 0), /Huffman/);
    assert.throws(() => pz.packetize(Buffer.from([1, 2, 3]), 0), /no SOI/);
    assert.throws(() => pz.packetize(fixture('q50-420.jpg').subarray(0, 300), 0), /truncated|length/);
    assert.throws(() => new JpegPacketizer({ ssrc: 1, mtu: 100 }), /mtu/);
  });
});
