import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ReceiverStats } from '../../src/rtcp/receiver-stats';
import type { SenderReportPacket } from '../../src/rtcp/packet';

const SSRC = 0x3634d2de;
/** A.8 recurrence applied to hand-computed |D| values (timestamp units). */
const jitterOf = (ds: number[], start = 0): number => ds.reduce((j, d) => j + (d - j) / 16, start);

const sr = (ntpSeconds: number, ntpFraction: number, ssrc = SSRC): SenderReportPacket => ({
  type: 'SR', ssrc, ntpSeconds, ntpFraction, rtpTimestamp: 0, packetCount: 0, octetCount: 0, reports: [],
});

describe('ReceiverStats: scripted stream with loss, duplicates, reordering and wrap (A.3, A.8)', () => {
  // 90 kHz, one packet per 40 ms frame → 3600 ticks per packet; 1 ms of arrival = 90 ticks.
  // The RTP timestamp also wraps 2^32 between k=2 and k=3.
  const T0 = 4294960000;
  const ts = (k: number): number => (T0 + k * 3600) % 2 ** 32;
  const s = new ReceiverStats(SSRC, 90000);

  test('interval 1: 65532 reordered, 65535/65536 lost, 65534 duplicated, seq wraps', () => {
    s.onRtp(65530, ts(0), 1000); //                    first: reference only
    s.onRtp(65531, ts(1), 1040); // Δarr 3600 − Δts 3600        → D = 0
    s.onRtp(65533, ts(3), 1121); // Δarr 7290 − Δts 7200        → D = 90
    s.onRtp(65532, ts(2), 1122); // Δarr 90   − Δts (−3600)     → D = 3690
    s.onRtp(65534, ts(4), 1160); // Δarr 3420 − Δts 7200        → D = 3780
    s.onRtp(65534, ts(4), 1161); // duplicate: Δarr 90 − Δts 0  → D = 90
    s.onRtp(65537, ts(7), 1280); // (cycle 1, seq 1) Δarr 10710 − Δts 10800 → D = 90
    const j1 = jitterOf([0, 90, 3690, 3780, 90, 90]);
    assert.equal(Math.floor(j1), 412); // 0 → 5.625 → 235.898 → 457.405 → 434.442 → 412.914

    const snap = s.snapshot();
    assert.equal(snap.packetsReceived, 7);
    assert.equal(snap.packetsExpected, 8); // 65537 − 65530 + 1
    assert.equal(snap.packetsLost, 1); // two lost, one duplicate
    assert.equal(snap.fractionLost, 0, 'no interval completed yet');
    assert.equal(snap.extendedHighestSeq, 65537);
    assert.equal(snap.jitter, 412);
    assert.ok(Math.abs(snap.jitterMs - j1 / 90) < 1e-9);

    const b = s.reportBlock(1300);
    assert.deepEqual(b, {
      ssrc: SSRC,
      fractionLost: 32, // lost_interval 1, expected_interval 8 → (1 << 8) / 8
      cumulativeLost: 1,
      extendedHighestSeq: 65537,
      jitter: 412,
      lastSr: 0,
      delaySinceLastSr: 0,
    });
    assert.equal(s.snapshot().fractionLost, 32 / 256);
    assert.equal(s.snapshot().fractionLost, 32 / 256, 'snapshot does not advance the interval');
  });

  test('interval 2: duplicates make cumulative loss negative, fraction 0', () => {
    s.onRtp(65538, ts(8), 1320); // Δarr 3600 − 3600 → D = 0
    s.onRtp(65538, ts(8), 1321); // duplicates: D = 90 each
    s.onRtp(65538, ts(8), 1322);
    s.onRtp(65538, ts(8), 1323);
    s.onRtp(65539, ts(9), 1360); // Δarr 3330 − 3600 → D = 270
    const j = jitterOf([0, 90, 90, 90, 270], jitterOf([0, 90, 3690, 3780, 90, 90]));
    const snap = s.snapshot();
    assert.equal(snap.packetsReceived, 12);
    assert.equal(snap.packetsExpected, 10);
    assert.equal(snap.packetsLost, -2);
    assert.equal(snap.fractionLost, 32 / 256, 'still the last completed interval');
    const b = s.reportBlock(1400);
    // expected_interval 2, received_interval 5 → lost_interval −3 → fraction 0 (A.3).
    assert.equal(b.fractionLost, 0);
    assert.equal(b.cumulativeLost, -2);
    assert.equal(b.extendedHighestSeq, 65539);
    assert.equal(b.jitter, Math.floor(j));
    assert.equal(s.snapshot().fractionLost, 0);
  });

  test('interval 3: nothing received → fraction 0, totals unchanged', () => {
    const b = s.reportBlock(1500);
    assert.equal(b.fractionLost, 0);
    assert.equal(b.cumulativeLost, -2);
  });
});

describe('ReceiverStats: A.3 arithmetic', () => {
  test('100 expected, 95 received → fraction floor(5·256/100) = 12', () => {
    const s = new ReceiverStats(1, 90000);
    for (let i = 0; i < 100; i++) if (i % 20 !== 7) s.onRtp(1000 + i, i * 3600, i * 40);
    const b = s.reportBlock(5000);
    assert.equal(b.fractionLost, 12);
    assert.equal(b.cumulativeLost, 5);
    assert.equal(b.extendedHighestSeq, 1099);
    assert.equal(s.snapshot().fractionLost, 12 / 256);
  });

  test('fraction is per interval: a clean second interval reports 0 while cumulative stays', () => {
    const s = new ReceiverStats(1, 90000);
    s.onRtp(0, 0, 0);
    s.onRtp(3, 10800, 120); // 1, 2 lost
    assert.equal(s.reportBlock(200).fractionLost, Math.floor((2 * 256) / 4));
    s.onRtp(4, 14400, 160);
    s.onRtp(5, 18000, 200);
    const b = s.reportBlock(300);
    assert.equal(b.fractionLost, 0);
    assert.equal(b.cumulativeLost, 2);
  });

  test('cumulative lost clamps to +0x7fffff; fraction saturates at 255', () => {
    const s = new ReceiverStats(1, 90000);
    s.onRtp(0, 0, 0);
    s.onRtp(10_000_000, 0, 1);
    assert.equal(s.snapshot().packetsLost, 9_999_999);
    const b = s.reportBlock(2);
    assert.equal(b.cumulativeLost, 0x7fffff);
    assert.equal(b.fractionLost, 255);
  });

  test('cumulative lost clamps to −0x800000 with a flood of duplicates', () => {
    const s = new ReceiverStats(1, 90000);
    const n = 0x800000 + 2;
    for (let i = 0; i < n; i++) s.onRtp(7, 0, 0);
    assert.equal(s.snapshot().packetsLost, 1 - n);
    assert.equal(s.reportBlock(0).cumulativeLost, -0x800000);
  });

  test('packet reordered ahead of the first one widens the expected range', () => {
    const s = new ReceiverStats(1, 90000);
    s.onRtp(101, 3600, 40);
    s.onRtp(100, 0, 41);
    s.onRtp(102, 7200, 80);
    const snap = s.snapshot();
    assert.equal(snap.packetsExpected, 3);
    assert.equal(snap.packetsLost, 0);
  });

  test('extended highest seq is sent modulo 2^32; nothing received → zeros', () => {
    const empty = new ReceiverStats(1, 90000).reportBlock(0);
    assert.deepEqual(empty, { ssrc: 1, fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0 });
    const s = new ReceiverStats(1, 90000);
    s.onRtp(2 ** 32 + 5, 0, 0);
    assert.equal(s.reportBlock(0).extendedHighestSeq, 5);
  });
});

describe('ReceiverStats: A.8 jitter', () => {
  test('constant network delay → 0, including several packets per frame', () => {
    const s = new ReceiverStats(1, 90000);
    let seq = 0;
    for (let f = 0; f < 50; f++) {
      // three packets of one frame leave together and arrive together 25 ms later
      for (let p = 0; p < 3; p++) s.onRtp(seq++, f * 3600, f * 40 + 25);
    }
    assert.equal(s.snapshot().jitter, 0);
    assert.equal(s.snapshot().jitterMs, 0);
  });

  test('arrival alternating 0/+1 ms converges to 90 ticks = 1 ms', () => {
    const s = new ReceiverStats(1, 90000);
    for (let i = 0; i < 400; i++) s.onRtp(i, i * 3600, i * 40 + (i % 2));
    const snap = s.snapshot();
    assert.ok(Math.abs(snap.jitterMs - 1) < 1e-6, String(snap.jitterMs));
    assert.equal(s.reportBlock(20000).jitter, 89); // floor of 90 − 90·(15/16)^399 ≈ 89.99…
  });

  test('units: the same stream at 8 kHz gives the same jitter in ms', () => {
    const s = new ReceiverStats(1, 8000);
    for (let i = 0; i < 400; i++) s.onRtp(i, i * 160, i * 20 + (i % 2) * 2);
    assert.ok(Math.abs(s.snapshot().jitterMs - 2) < 1e-6);
  });
});

describe('ReceiverStats: LSR / DLSR (§6.4.1)', () => {
  test('LSR = middle 32 bits of the SR NTP time, DLSR in 1/65536 s from its arrival', () => {
    const s = new ReceiverStats(SSRC, 90000);
    s.onRtp(1, 0, 0);
    s.onSenderReport(sr(0x12345678, 0x9abcdef0), 10_000);
    const b = s.reportBlock(11_500);
    assert.equal(b.lastSr, 0x56789abc);
    assert.equal(b.delaySinceLastSr, 98304); // 1.5 s · 65536
    // A later SR replaces it.
    s.onSenderReport(sr(0x00010002, 0x00030004), 12_000);
    const b2 = s.reportBlock(12_250);
    assert.equal(b2.lastSr, 0x00020003); // seconds low 16 bits 0x0002, fraction high 16 bits 0x0003
    assert.equal(b2.delaySinceLastSr, 16384);
  });

  test('an SR of another SSRC is ignored; a clock going backwards gives DLSR 0, not negative', () => {
    const s = new ReceiverStats(SSRC, 90000);
    s.onSenderReport(sr(0x12345678, 0x9abcdef0, SSRC + 1), 10_000);
    assert.equal(s.reportBlock(11_000).lastSr, 0);
    s.onSenderReport(sr(0x12345678, 0x9abcdef0), 10_000);
    assert.equal(s.reportBlock(9_000).delaySinceLastSr, 0);
  });
});
