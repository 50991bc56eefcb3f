import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RtpSequencer, type SequencerOptions } from '../../src/rtp/sequencer';
import { RtpPacketView, type RtpPacket } from '../../src/rtp/packet';

function pkt(seq: number, ssrc = 0x1234): RtpPacket {
  return {
    marker: false, payloadType: 26, sequenceNumber: seq & 0xffff, timestamp: 0, ssrc,
    payload: Buffer.from([seq & 0xff]), extensionProfile: -1, extension: null,
  };
}

function harness(opts?: SequencerOptions) {
  const out: { seq: number; ext: number; ssrc: number }[] = [];
  const s = new RtpSequencer((p, ext) => out.push({ seq: p.sequenceNumber, ext, ssrc: p.ssrc }), opts);
  const push = (seqs: number[], now = 0, ssrc = 0x1234) => { for (const q of seqs) s.push(pkt(q, ssrc), now); };
  return { s, out, push, seqs: () => out.map((o) => o.seq) };
}

describe('RtpSequencer', () => {
  test('probation: first packet is held until a second one in sequence, then both are delivered', () => {
    const h = harness();
    h.push([100]);
    assert.deepEqual(h.seqs(), []);
    assert.equal(h.s.pendingCount, 1);
    h.push([101, 102]);
    assert.deepEqual(h.seqs(), [100, 101, 102]);
    assert.equal(h.s.pendingCount, 0);
  });

  test('probation restarts on a non-sequential second packet (A.1); a lone packet is released by flush', () => {
    const h = harness({ maxReorderMs: 50 });
    h.push([100], 0);
    h.push([500], 1);
    assert.deepEqual(h.seqs(), []);
    assert.equal(h.s.stats.lateDropped, 1);
    h.s.flush(20);
    assert.deepEqual(h.seqs(), []);
    h.s.flush(60);
    assert.deepEqual(h.seqs(), [500]);
    h.push([501], 61);
    assert.deepEqual(h.seqs(), [500, 501]);
  });

  test('sequence wrap at 65535 keeps extended numbers increasing', () => {
    const h = harness();
    h.push([65533, 65534, 65535, 0, 1]);
    assert.deepEqual(h.seqs(), [65533, 65534, 65535, 0, 1]);
    assert.deepEqual(h.out.map((o) => o.ext), [65533, 65534, 65535, 65536, 65537]);
  });

  test('reordering across the wrap is undone', () => {
    const h = harness();
    h.push([65533, 65534, 0, 65535, 1]);
    assert.deepEqual(h.seqs(), [65533, 65534, 65535, 0, 1]);
    assert.equal(h.s.stats.reordered, 1);
    assert.deepEqual(h.out.map((o) => o.ext), [65533, 65534, 65535, 65536, 65537]);
  });

  test('duplicates are dropped and counted (delivered and held ones)', () => {
    const h = harness();
    h.push([1, 2, 3, 3, 2, 5, 5, 4]);
    assert.deepEqual(h.seqs(), [1, 2, 3, 4, 5]);
    assert.equal(h.s.stats.duplicates, 3);
    assert.equal(h.s.stats.received, 8);
    assert.equal(h.s.stats.delivered, 5);
  });

  test('reorder within the window is delivered in order', () => {
    const h = harness();
    h.push([10, 11, 14, 13, 15, 12, 16]);
    assert.deepEqual(h.seqs(), [10, 11, 12, 13, 14, 15, 16]);
    assert.equal(h.s.pendingCount, 0);
    assert.equal(h.s.stats.gaps, 0);
  });

  test('flush gives up on a gap after maxReorderMs; the late packet is then dropped', () => {
    const h = harness({ maxReorderMs: 100 });
    h.push([1, 2], 0);
    h.push([4, 5], 10);
    assert.deepEqual(h.seqs(), [1, 2]);
    h.s.flush(50);
    assert.deepEqual(h.seqs(), [1, 2]);
    h.s.flush(110);
    assert.deepEqual(h.seqs(), [1, 2, 4, 5]);
    assert.equal(h.s.stats.gaps, 1);
    assert.equal(h.s.stats.lostPackets, 1);
    h.push([3], 120);
    assert.equal(h.s.stats.lateDropped, 1);
    assert.deepEqual(h.seqs(), [1, 2, 4, 5]);
  });

  test('push also expires old gaps (no timer needed when packets keep coming)', () => {
    const h = harness({ maxReorderMs: 100 });
    h.push([1, 2], 0);
    h.push([4], 0);
    h.push([5], 150);
    assert.deepEqual(h.seqs(), [1, 2, 4, 5]);
  });

  test('buffer bounded by maxReorderPackets: oldest gap skipped when the window overflows', () => {
    const h = harness({ maxReorderPackets: 4, maxReorderMs: 1e9 });
    h.push([1, 2]);
    h.push([4, 5, 6]);
    assert.equal(h.s.pendingCount, 3);
    h.push([7]); // 7 - 3 >= 4: gap at 3 given up
    assert.deepEqual(h.seqs(), [1, 2, 4, 5, 6, 7]);
    assert.ok(h.s.pendingCount <= 4);
    assert.equal(h.s.stats.gaps, 1);
  });

  test('large jump: resync after two in-order packets (A.1 bad_seq), extended seq stays monotone', () => {
    const h = harness();
    h.push([1, 2, 3, 20000]);
    assert.deepEqual(h.seqs(), [1, 2, 3]);
    h.push([20001, 20002]);
    assert.deepEqual(h.seqs(), [1, 2, 3, 20000, 20001, 20002]);
    assert.equal(h.s.stats.resyncs, 1);
    const ext = h.out.map((o) => o.ext);
    for (let i = 1; i < ext.length; i++) assert.ok(ext[i]! > ext[i - 1]!);
  });

  test('large backward jump (encoder restart) also resyncs', () => {
    const h = harness();
    h.push([40000, 40001, 5, 6, 7]);
    assert.deepEqual(h.seqs(), [40000, 40001, 5, 6, 7]);
    const ext = h.out.map((o) => o.ext);
    for (let i = 1; i < ext.length; i++) assert.ok(ext[i]! > ext[i - 1]!);
  });

  test('a single stray packet far away is dropped', () => {
    const h = harness();
    h.push([1, 2, 3, 30000, 4, 5]);
    assert.deepEqual(h.seqs(), [1, 2, 3, 4, 5]);
    assert.equal(h.s.stats.lateDropped, 1);
    assert.equal(h.s.pendingCount, 0);
  });

  test('SSRC change: held packets of the old source are released, new source starts with probation', () => {
    const h = harness();
    h.push([1, 2, 4], 0, 0xaaaa);
    h.push([900, 901], 0, 0xbbbb);
    assert.deepEqual(h.out.map((o) => [o.ssrc, o.seq]), [[0xaaaa, 1], [0xaaaa, 2], [0xaaaa, 4], [0xbbbb, 900], [0xbbbb, 901]]);
    assert.equal(h.s.stats.ssrcChanges, 1);
    const ext = h.out.map((o) => o.ext);
    for (let i = 1; i < ext.length; i++) assert.ok(ext[i]! > ext[i - 1]!);
  });

  test('reset forgets the source', () => {
    const h = harness();
    h.push([1, 2, 4]);
    h.s.reset();
    assert.equal(h.s.pendingCount, 0);
    h.push([7, 8]);
    assert.deepEqual(h.seqs(), [1, 2, 7, 8]);
  });

  test('long in-order run with wrap delivers everything once', () => {
    const h = harness();
    const seqs = Array.from({ length: 200000 }, (_, i) => (60000 + i) & 0xffff);
    h.push(seqs);
    assert.equal(h.s.stats.delivered, 200000);
    assert.equal(h.out[199999]!.ext, 60000 + 199999);
  });

  test('property: any sequence never throws, never delivers twice, ext strictly increasing, bounded buffer', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ seq: fc.integer({ min: 0, max: 65535 }), ssrc: fc.constantFrom(1, 2), dt: fc.integer({ min: 0, max: 60 }), flush: fc.boolean() }), { maxLength: 300 }),
      fc.integer({ min: 1, max: 64 }),
      (ops, cap) => {
        const h = harness({ maxReorderPackets: cap, maxReorderMs: 100 });
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          h.s.push(pkt(o.seq, o.ssrc), now);
          if (o.flush) h.s.flush(now);
          assert.ok(h.s.pendingCount <= cap + 2);
        }
        const ext = h.out.map((x) => x.ext);
        for (let i = 1; i < ext.length; i++) assert.ok(ext[i]! > ext[i - 1]!);
        assert.ok(h.s.stats.delivered <= h.s.stats.received);
      },
    ), { numRuns: 300 });
  });

  test('SSRC change discards the old source\'s probation and held large-jump packets, counted', () => {
    const h = harness();
    h.push([10], 0, 0xaaaa); // in probation
    h.push([500], 0, 0xbbbb); // SSRC change: 10 never validated
    assert.equal(h.s.stats.discarded, 1);
    h.push([501, 502, 9000], 0, 0xbbbb); // 9000: large jump, held
    h.push([3], 0, 0xcccc);
    assert.equal(h.s.stats.discarded, 2, 'the held large-jump packet');
    h.s.reset();
    assert.equal(h.s.stats.discarded, 3, 'reset counts what it throws away');
    assert.equal(h.s.pendingCount, 0);
  });

  test('hours in: an SSRC change after several wraps, then wrap, reordering and gap expiry on the new source', () => {
    const h = harness({ maxReorderMs: 100 });
    const T0 = 3 * 3600 * 1000; // the camera has been up for three hours (injected clock)
    let now = T0;
    // source A: four and a half wraps of in-order packets, one every 4 ms
    let seq = 60000;
    const n = 4 * 65536 + 32768;
    for (let i = 0; i < n; i++) { h.s.push(pkt(seq, 0xaaaa), now); seq = (seq + 1) & 0xffff; now += 4; }
    assert.equal(h.out.length, n);
    const lastA = h.out[h.out.length - 1]!.ext;
    assert.equal(lastA - h.out[0]!.ext, n - 1, 'extended numbers count every packet across the wraps');
    // a gap on A, then the camera restarts its encoder: new SSRC, sequence near the wrap
    h.s.push(pkt(seq + 1, 0xaaaa), now);
    now += 4;
    const before = h.out.length;
    const bSeqs = [65530, 65531, 65532, 65534, 65533, 65535, 0, 1, 2, 3];
    for (const q of bSeqs) { h.s.push(pkt(q, 0xbbbb), now); now += 4; }
    const b = h.out.slice(before).filter((o) => o.ssrc === 0xbbbb);
    assert.deepEqual(b.map((o) => o.seq), [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3], 'reordering undone on the new source, across its wrap');
    for (let i = 1; i < b.length; i++) assert.equal(b[i]!.ext, b[i - 1]!.ext + 1, 'consecutive extended numbers across the new source\'s wrap');
    assert.ok(b[0]!.ext > lastA, 'extended numbers never go back at an SSRC change');
    assert.equal(h.s.stats.ssrcChanges, 1);
    // a gap on the new source is given up after maxReorderMs of its own clock, not of the old one's
    h.s.push(pkt(5, 0xbbbb), now);
    assert.equal(h.out[h.out.length - 1]!.seq, 3, 'held behind the gap');
    h.s.flush(now + 50);
    assert.equal(h.out[h.out.length - 1]!.seq, 3, 'not given up before maxReorderMs');
    h.s.flush(now + 101);
    assert.equal(h.out[h.out.length - 1]!.seq, 5);
    h.s.push(pkt(4, 0xbbbb), now + 102);
    assert.equal(h.out[h.out.length - 1]!.seq, 5, 'the late packet is dropped');
    h.s.push(pkt(6, 0xbbbb), now + 103);
    assert.equal(h.out[h.out.length - 1]!.seq, 6);
    const ext = h.out.map((o) => o.ext);
    for (let i = 1; i < ext.length; i++) assert.ok(ext[i]! > ext[i - 1]!, `ext ${ext[i]} after ${ext[i - 1]}`);
    const st = h.s.stats;
    assert.equal(st.received, st.delivered + st.duplicates + st.lateDropped + st.discarded + h.s.pendingCount);
  });

  test('property: received = delivered + duplicates + lateDropped + discarded + pendingCount', () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('step' as const), d: fc.integer({ min: -6, max: 8 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('jump' as const), d: fc.integer({ min: 0, max: 65535 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('ssrc' as const), d: fc.constantFrom(1, 2, 3) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const), d: fc.integer({ min: 0, max: 200 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), d: fc.constant(0) }) },
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 64 }), (ops, cap) => {
      const h = harness({ maxReorderPackets: cap, maxReorderMs: 100 });
      let seq = 0, ssrc = 1, now = 0;
      for (const o of ops) {
        if (o.kind === 'step') seq = (seq + o.d) & 0xffff;
        else if (o.kind === 'jump') seq = o.d;
        else if (o.kind === 'ssrc') ssrc = o.d;
        else if (o.kind === 'flush') { now += o.d; h.s.flush(now); continue; } else { h.s.reset(); continue; }
        now += 1;
        h.s.push(pkt(seq, ssrc), now);
        const st = h.s.stats;
        assert.equal(st.received, st.delivered + st.duplicates + st.lateDropped + st.discarded + h.s.pendingCount, JSON.stringify(st));
        assert.equal(st.delivered, h.out.length);
      }
    }), { numRuns: 500 });
  });

  test('property: shuffled window is delivered fully in order', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), fc.array(fc.nat(), { minLength: 2, maxLength: 60 }), (start, keys) => {
      const n = keys.length;
      const order = Array.from({ length: n }, (_, i) => i);
      // keep the first two in order (probation), shuffle the rest within the window
      const rest = order.slice(2).sort((a, b) => (keys[a]! - keys[b]!) || a - b);
      const h = harness({ maxReorderPackets: 128, maxReorderMs: 1e9 });
      h.push([start, start + 1, ...rest.map((i) => start + i)].map((x) => x & 0xffff));
      assert.deepEqual(h.seqs(), order.map((i) => (start + i) & 0xffff));
    }), { numRuns: 200 });
  });

  test('property: one re-filled RtpPacketView per packet (as MediaTrack feeds it) delivers what fresh objects do', () => {
    const raw = (seq: number): Buffer => {
      const b = Buffer.alloc(13);
      b[0] = 0x80; b[1] = 26; b.writeUInt16BE(seq & 0xffff, 2); b.writeUInt32BE(seq * 10, 4); b.writeUInt32BE(0x1234, 8); b[12] = seq & 0xff;
      return b;
    };
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 120 }), (order) => {
      const fresh: string[] = [];
      const reused: string[] = [];
      const fmt = (p: RtpPacket, ext: number): string => `${ext}:${p.sequenceNumber}:${p.timestamp}:${p.payload[0]}`;
      const a = new RtpSequencer((p, ext) => fresh.push(fmt(p, ext)), { maxReorderPackets: 16 });
      const b = new RtpSequencer((p, ext) => reused.push(fmt(p, ext)), { maxReorderPackets: 16 });
      const view = new RtpPacketView();
      order.forEach((seq, i) => {
        const bytes = raw(1000 + seq);
        a.push(RtpPacketView.of(bytes)!, i);
        assert.ok(view.parse(bytes, 0, bytes.length));
        b.push(view, i);
      });
      a.flush(1e9);
      b.flush(1e9);
      assert.deepEqual(reused, fresh);
    }), { numRuns: 500 });
  });
});
