/**
 * A media track's RTCP side after it has run for a while: the RR schedule an hour in, a BYE,
 * and the track of the reconnect that follows. The clock is injected (mocked setTimeout and
 * the track's `now`), so an hour of stream takes milliseconds and the delays are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaTrack } from '../../src/camera/media-track';
import { parseRtcpCompound, type ReportBlock } from '../../src/rtcp/packet';
import { rtcpIntervalMs } from '../../src/rtcp/interval';

const INFO = { kind: 'video', encoding: 'JPEG', payloadType: 26, clockRate: 90000, control: 'rtsp://127.0.0.1/cam/stream=0' };
const OUR_SSRC = 0x11112222;

function rtp(seq: number, ts: number, ssrc: number): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x80; b[1] = 26;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

function bye(ssrc: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x81; b[1] = 203; b.writeUInt16BE(1, 2); b.writeUInt32BE(ssrc, 4);
  return b;
}

interface SentRr { at: number; ssrc: number; blocks: ReportBlock[] }

test('RR schedule an hour in, after a BYE, and on the track of the reconnect', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 5 * 3600 * 1000; // monotonic ms: the process has been up for hours
  const advance = (ms: number): void => { now += ms; t.mock.timers.tick(ms); };
  const half = (): number => 0.5;
  // A.7 with the track's parameters (5 % of 1 Mbit/s, 2 members, 1 sender): the 5 s minimum
  const first = rtcpIntervalMs({ members: 2, senders: 1, weSent: false, initial: true, avgRtcpSize: 128, rtcpBandwidthBytesPerSec: 6250 }, half);
  const regular = rtcpIntervalMs({ members: 2, senders: 1, weSent: false, initial: false, avgRtcpSize: 128, rtcpBandwidthBytesPerSec: 6250 }, half);
  assert.ok(first > 2000 && first < 2100 && regular > 4000 && regular < 4200, `${first} ${regular}`);

  const byes: (string | null)[] = [];
  const open = (sent: SentRr[]): MediaTrack => {
    const track = new MediaTrack({ info: INFO, video: false, ssrc: OUR_SSRC, cname: 'rx', now: () => now, random: half, onBye: (r) => byes.push(r) });
    track.startRtcp((b) => {
      const rr = parseRtcpCompound(b).packets.find((p) => p.type === 'RR');
      assert.ok(rr && rr.type === 'RR');
      sent.push({ at: now, ssrc: rr.ssrc, blocks: rr.reports });
    });
    return track;
  };

  // an hour of 25 packets/s from the camera's source, sequence wrapping on the way
  const start = now;
  const sentA: SentRr[] = [];
  const a = open(sentA);
  const A = 0xcafe0001;
  let seq = 60000;
  let ts = 1000;
  const packets = 3600 * 25;
  for (let i = 0; i < packets; i++) {
    a.onRtp(rtp(seq++, ts, A), now);
    ts += 3600;
    advance(40);
  }
  assert.ok(sentA.length > 800, `${sentA.length} RRs in an hour`);
  assert.ok(Math.abs(sentA[0]!.at - start - first) < 41, 'first RR after the halved minimum (A.7 initial)');
  for (let i = 1; i < sentA.length; i++) {
    // packets advance the clock in 40 ms steps; the timer fires inside the step it falls in
    assert.ok(Math.abs(sentA[i]!.at - sentA[i - 1]!.at - regular) < 41, `RR ${i}: ${sentA[i]!.at - sentA[i - 1]!.at} ms after the previous`);
  }
  const lastA = sentA[sentA.length - 1]!;
  assert.equal(lastA.ssrc, OUR_SSRC);
  assert.equal(lastA.blocks.length, 1);
  assert.equal(lastA.blocks[0]!.ssrc, A);
  assert.equal(lastA.blocks[0]!.cumulativeLost, 0);
  assert.ok(lastA.blocks[0]!.extendedHighestSeq > 65536, 'extended highest sequence counts the wraps');

  // a BYE of another source is not ours to act on; the BYE of the source ends it
  a.onRtcp(bye(0x0bad0bad));
  assert.deepEqual(byes, []);
  a.onRtcp(bye(A));
  assert.equal(byes.length, 1);
  assert.equal(a.byeReceived, true);
  // the session closes the track and reconnects: the old schedule stops
  a.close();
  const countA = sentA.length;
  advance(3 * regular);
  assert.equal(sentA.length, countA, 'no RR from a closed track');

  // the reconnect's track (new source after the camera restarted): initial interval again,
  // and its reports are about the new source only
  const sentB: SentRr[] = [];
  const reconnectAt = now;
  const b = open(sentB);
  const B = 0xbeef0002;
  let seqB = 7;
  for (let i = 0; i < 250; i++) {
    b.onRtp(rtp(seqB++, 123456 + i * 3600, B), now);
    advance(40);
  }
  assert.ok(Math.abs(sentB[0]!.at - reconnectAt - first) < 41, `first RR of the new track ${sentB[0]!.at - reconnectAt} ms after it started`);
  b.sendRr(); // a report now, after the last packet
  const lastB = sentB[sentB.length - 1]!;
  assert.deepEqual(lastB.blocks.map((x) => x.ssrc), [B]);
  assert.equal(lastB.blocks[0]!.extendedHighestSeq, seqB - 1, 'sequence state of the new source only');
  assert.equal(lastB.blocks[0]!.cumulativeLost, 0);
  b.close();
});
