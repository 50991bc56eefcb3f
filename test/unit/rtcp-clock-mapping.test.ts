import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ClockMapping, MAX_CLOCK_ANCHORS, ntpToMs, msToNtp, ntpMiddle32 } from '../../src/rtcp/clock-mapping';
import { parseRtcpCompound, type SenderReportPacket } from '../../src/rtcp/packet';
import { vectorPackets } from '../support/pcap';

describe('NTP conversions', () => {
  test('known values', () => {
    assert.equal(ntpToMs(2208988800, 0), 0); // Unix epoch
    assert.equal(ntpToMs(0xeeaf2221, 0x80000000), 1795466145500); // from the GStreamer vector's first SR
    assert.deepEqual(msToNtp(0), { seconds: 2208988800, fraction: 0 });
    assert.deepEqual(msToNtp(1795466145250), { seconds: 0xeeaf2221, fraction: 0x40000000 });
    // RFC 4330 §3 era rule: MSB clear → from 2036-02-07T06:28:16Z on.
    assert.equal(ntpToMs(0, 0), Date.UTC(2036, 1, 7, 6, 28, 16));
    assert.deepEqual(msToNtp(Date.UTC(2036, 1, 7, 6, 28, 17)), { seconds: 1, fraction: 0 });
  });

  test('round trip ms → NTP → ms within a microsecond', () => {
    for (const ms of [1, 999.999, 1795466145333.25, Date.UTC(2030, 0, 1), Date.UTC(2040, 5, 5, 5, 5, 5, 5)]) {
      const n = msToNtp(ms);
      assert.ok(Number.isInteger(n.seconds) && n.seconds >= 0 && n.seconds <= 0xffffffff);
      assert.ok(Number.isInteger(n.fraction) && n.fraction >= 0 && n.fraction <= 0xffffffff);
      assert.ok(Math.abs(ntpToMs(n.seconds, n.fraction) - ms) < 1e-3, String(ms));
    }
  });

  test('ntpMiddle32 (LSR)', () => {
    assert.equal(ntpMiddle32(0x12345678, 0x9abcdef0), 0x56789abc);
    assert.equal(ntpMiddle32(0xffffffff, 0xffffffff), 0xffffffff);
    assert.equal(ntpMiddle32(0, 0xffff), 0);
  });
});

describe('ClockMapping', () => {
  const base = msToNtp(Date.UTC(2026, 10, 23, 12, 0, 0));
  const baseMs = Date.UTC(2026, 10, 23, 12, 0, 0);

  test('bounded: SRs from endless new SSRCs keep at most MAX_CLOCK_ANCHORS, the least recently updated goes', () => {
    const m = new ClockMapping(90000);
    m.onSenderReport(1, base.seconds, base.fraction, 0);
    for (let s = 1000; s < 1000 + 10 * MAX_CLOCK_ANCHORS; s++) {
      m.onSenderReport(s, base.seconds, base.fraction, 0);
      m.onSenderReport(1, base.seconds, base.fraction, 0); // SSRC 1 keeps reporting
    }
    assert.equal(m.size, MAX_CLOCK_ANCHORS);
    assert.equal(m.toWallClockMs(1, 0), baseMs, 'the active source survives');
    assert.equal(m.toWallClockMs(1000, 0), null, 'an old invented one is gone');
    assert.equal(m.toWallClockMs(999 + 10 * MAX_CLOCK_ANCHORS, 0), baseMs);
  });

  test('null before the first SR and for another SSRC', () => {
    const m = new ClockMapping(90000);
    assert.equal(m.toWallClockMs(1, 1234), null);
    m.onSenderReport(1, base.seconds, base.fraction, 90000);
    assert.equal(m.toWallClockMs(2, 90000), null);
    assert.equal(m.toWallClockMs(1, 90000), baseMs);
  });

  test('forward and backward from the SR, 90 kHz', () => {
    const m = new ClockMapping(90000);
    m.onSenderReport(7, base.seconds, base.fraction, 1_000_000);
    assert.equal(m.toWallClockMs(7, 1_000_000 + 3600), baseMs + 40);
    assert.equal(m.toWallClockMs(7, 1_000_000 - 90000), baseMs - 1000);
  });

  test('32-bit RTP timestamp wrap in both directions', () => {
    const m = new ClockMapping(90000);
    m.onSenderReport(7, base.seconds, base.fraction, 0xffffff00);
    assert.equal(m.toWallClockMs(7, 0x00000100), baseMs + (512 * 1000) / 90000);
    m.onSenderReport(7, base.seconds, base.fraction, 0x00000100);
    assert.equal(m.toWallClockMs(7, 0xffffff00), baseMs - (512 * 1000) / 90000);
  });

  test('a new SR re-anchors the mapping', () => {
    const m = new ClockMapping(90000);
    m.onSenderReport(7, base.seconds, base.fraction, 0);
    const later = msToNtp(baseMs + 10_000);
    m.onSenderReport(7, later.seconds, later.fraction, 900_000 + 90); // sender clock drifted by 1 ms
    assert.ok(Math.abs(m.toWallClockMs(7, 900_090)! - (baseMs + 10_000)) < 1e-3);
  });

  test('captured GStreamer stream: SR mapping matches capture times of nearby RTP packets', () => {
    const v = vectorPackets('test/fixtures/vectors/gst-udp-rtcp-160x120-25s.pcap', 26);
    const srs: { time: number; sr: SenderReportPacket }[] = [];
    for (const r of v.rtcp) {
      const p = parseRtcpCompound(r.packet).packets[0];
      if (p?.type === 'SR') srs.push({ time: r.time, sr: p });
    }
    assert.ok(srs.length >= 5);
    let checked = 0;
    for (const { time, sr } of srs) {
      const m = new ClockMapping(90000);
      m.onSenderReport(sr.ssrc, sr.ntpSeconds, sr.ntpFraction, sr.rtpTimestamp);
      // The SR's NTP time is the sender's wall clock at sending: close to its capture time.
      assert.ok(Math.abs(ntpToMs(sr.ntpSeconds, sr.ntpFraction) - time * 1000) < 50);
      const seen = new Set<number>();
      for (const { time: t, packet } of v.rtp) {
        if (Math.abs(t - time) > 1) continue;
        const ts = packet.readUInt32BE(4);
        if (seen.has(ts) || packet.readUInt32BE(8) !== sr.ssrc) continue;
        seen.add(ts); // first packet of each frame: sent right when the frame was stamped
        const wall = m.toWallClockMs(sr.ssrc, ts);
        assert.ok(wall !== null);
        const diff = wall - t * 1000;
        assert.ok(Math.abs(diff) < 20, `frame ts ${ts}: mapped ${wall}, captured ${t * 1000}, diff ${diff} ms`);
        checked++;
      }
    }
    assert.ok(checked >= 100, `frames checked: ${checked}`);
  });
});
