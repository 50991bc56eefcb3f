import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRtpPacket, RtpPacketView } from '../../src/rtp/packet';

function header(b0: number, b1: number, seq: number, ts: number, ssrc: number): Buffer {
  const h = Buffer.alloc(12);
  h[0] = b0; h[1] = b1; h.writeUInt16BE(seq, 2); h.writeUInt32BE(ts, 4); h.writeUInt32BE(ssrc, 8);
  return h;
}

describe('parseRtpPacket (RFC 3550 §5.1)', () => {
  test('fixed header fields, unsigned timestamp/ssrc, payload is a subarray', () => {
    const buf = Buffer.concat([header(0x80, 0x80 | 26, 65535, 0xfffffffe, 0xdeadbeef), Buffer.from([1, 2, 3])]);
    const p = parseRtpPacket(buf)!;
    assert.equal(p.marker, true);
    assert.equal(p.payloadType, 26);
    assert.equal(p.sequenceNumber, 65535);
    assert.equal(p.timestamp, 0xfffffffe);
    assert.equal(p.ssrc, 0xdeadbeef);
    assert.deepEqual([...p.payload], [1, 2, 3]);
    assert.equal(p.extensionProfile, -1);
    assert.equal(p.extension, null);
    assert.equal(p.payload.buffer, buf.buffer, 'no copy');
    buf[12] = 9;
    assert.equal(p.payload[0], 9);
  });

  test('CSRC list is skipped', () => {
    const buf = Buffer.concat([header(0x82, 26, 1, 2, 3), Buffer.alloc(8, 0xee), Buffer.from([7, 8])]);
    assert.deepEqual([...parseRtpPacket(buf)!.payload], [7, 8]);
    assert.equal(parseRtpPacket(buf.subarray(0, 16)), null, 'CSRC list truncated');
  });

  test('header extension: profile, data, length in words excluding its header', () => {
    const ext = Buffer.from([0xab, 0xac, 0x00, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const buf = Buffer.concat([header(0x90, 26, 1, 2, 3), ext, Buffer.from([0x55])]);
    const p = parseRtpPacket(buf)!;
    assert.equal(p.extensionProfile, 0xabac);
    assert.deepEqual([...p.extension!], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.deepEqual([...p.payload], [0x55]);
    assert.equal(parseRtpPacket(buf.subarray(0, 20)), null, 'extension truncated');
    assert.equal(parseRtpPacket(buf.subarray(0, 14)), null, 'extension header truncated');
  });

  test('CSRC + extension + padding together', () => {
    const buf = Buffer.concat([header(0xb1, 26, 1, 2, 3), Buffer.alloc(4, 0xcc), Buffer.from([0xff, 0xd8, 0, 1, 9, 9, 9, 9]), Buffer.from([0x42, 0x43]), Buffer.from([0, 0, 3])]);
    const p = parseRtpPacket(buf)!;
    assert.equal(p.extensionProfile, 0xffd8);
    assert.deepEqual([...p.payload], [0x42, 0x43]);
  });

  test('padding removed; count 0 or larger than the payload is invalid', () => {
    const pad4 = Buffer.concat([header(0xa0, 26, 1, 2, 3), Buffer.from([1, 2, 0, 0, 0, 4])]);
    assert.deepEqual([...parseRtpPacket(pad4)!.payload], [1, 2]);
    const pad0 = Buffer.concat([header(0xa0, 26, 1, 2, 3), Buffer.from([1, 2, 0])]);
    assert.equal(parseRtpPacket(pad0), null);
    const padBig = Buffer.concat([header(0xa0, 26, 1, 2, 3), Buffer.from([1, 2, 9])]);
    assert.equal(parseRtpPacket(padBig), null);
    const padAll = Buffer.concat([header(0xa0, 26, 1, 2, 3), Buffer.from([0, 0, 3])]);
    assert.equal(parseRtpPacket(padAll)!.payload.length, 0);
  });

  test('version must be 2; at least 12 bytes', () => {
    assert.equal(parseRtpPacket(header(0x40, 26, 1, 2, 3)), null);
    assert.equal(parseRtpPacket(header(0xc0, 26, 1, 2, 3)), null);
    assert.equal(parseRtpPacket(Buffer.alloc(11, 0x80)), null);
    assert.equal(parseRtpPacket(Buffer.alloc(0)), null);
    assert.equal(parseRtpPacket(header(0x80, 26, 1, 2, 3))!.payload.length, 0);
  });

  test('property: any bytes never throw; a parsed payload lies inside the input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (arr, forceV2) => {
      const b = Buffer.from(arr);
      if (forceV2 && b.length) b[0] = (b[0]! & 0x3f) | 0x80;
      const p = parseRtpPacket(b);
      if (p) {
        assert.ok(p.payload.byteOffset >= b.byteOffset + 12);
        assert.ok(p.payload.byteOffset + p.payload.length <= b.byteOffset + b.length);
        assert.ok(p.timestamp >= 0 && p.ssrc >= 0);
      }
    }), { numRuns: 3000 });
  });

  test('property: parse(buf, start, end) into one re-filled view equals parseRtpPacket of the same bytes alone', () => {
    const view = new RtpPacketView();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (arr, pre, post) => {
      const b = Buffer.from(arr);
      if (b.length) b[0] = (b[0]! & 0x3f) | 0x80;
      const joined = Buffer.concat([Buffer.from(pre), b, Buffer.from(post)]);
      const alone = parseRtpPacket(b);
      const ok = view.parse(joined, pre.length, pre.length + b.length);
      assert.equal(ok, alone !== null);
      if (!alone) return;
      for (const k of ['marker', 'payloadType', 'sequenceNumber', 'timestamp', 'ssrc', 'extensionProfile'] as const) assert.equal(view[k], alone[k], k);
      assert.deepEqual(view.payload, alone.payload);
      assert.deepEqual(view.extension, alone.extension);
      assert.equal(view.data, joined, 'no copy: the view reads the buffer it was given');
    }), { numRuns: 2000 });
  });

  test('retain(): a re-filled view is copied (fields frozen), a one-off view is kept as is', () => {
    const a = Buffer.concat([header(0x90, 26, 7, 100, 1), Buffer.from([0xab, 0xac, 0, 1, 9, 9, 9, 9]), Buffer.from([5])]);
    const b = Buffer.concat([header(0x80, 0x80 | 26, 8, 200, 1), Buffer.from([6, 7])]);
    const view = new RtpPacketView();
    assert.ok(view.parse(a, 0, a.length));
    const kept = view.retain();
    assert.notEqual(kept, view);
    assert.ok(view.parse(b, 0, b.length));
    assert.equal(kept.sequenceNumber, 7);
    assert.equal(kept.timestamp, 100);
    assert.equal(kept.marker, false);
    assert.equal(kept.extensionProfile, 0xabac);
    assert.deepEqual(kept.extension, Buffer.from([9, 9, 9, 9]));
    assert.deepEqual(kept.payload, Buffer.from([5]));
    assert.equal(view.sequenceNumber, 8);
    assert.equal(view.extension, null);
    assert.deepEqual(view.payload, Buffer.from([6, 7]));
    const once = parseRtpPacket(b)!;
    assert.equal(once.retain(), once);
  });
});
