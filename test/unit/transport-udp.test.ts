/**
 * UdpTrackTransport (transport/udp.ts) on real sockets on 127.0.0.1: media is accepted only
 * from the RTSP server's address and announced ports, anything else is counted and dropped;
 * the NAT punch and RTCP go to the server's ports.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { allocateUdpPair, type UdpPair } from '../../src/transport/port-allocator';
import { UdpTrackTransport } from '../../src/transport/udp';

function bound(address: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, address, () => resolve(s));
  });
}

function send(from: dgram.Socket, port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => from.send(bytes, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

/** Waits (bounded) until `check()` holds: datagrams on loopback arrive within milliseconds. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), what);
}

describe('UdpTrackTransport', () => {
  test('only the server address and its announced ports get through; punch and RTCP go to the server ports', async () => {
    const sockets: dgram.Socket[] = [];
    let pair: UdpPair | null = null;
    let t: UdpTrackTransport | null = null;
    try {
      const serverRtp = await bound('127.0.0.1');
      const serverRtcp = await bound('127.0.0.1');
      const otherPort = await bound('127.0.0.1');
      // 127.0.0.2 is loopback too on Linux: another host as far as the filter is concerned
      const otherHost = await bound('127.0.0.2').catch(() => null);
      sockets.push(serverRtp, serverRtcp, otherPort, ...(otherHost ? [otherHost] : []));
      pair = await allocateUdpPair({ range: [40000, 59999], bindAddress: '127.0.0.1' });
      const rtp: number[] = [];
      const rtcp: number[] = [];
      const arrivals: number[] = [];
      t = new UdpTrackTransport({
        pair, serverAddress: '127.0.0.1', serverRtpPort: serverRtp.address().port, serverRtcpPort: serverRtcp.address().port,
        sink: { onRtp: (d, at) => { rtp.push(d.length); arrivals.push(at); }, onRtcp: (p) => rtcp.push(p.length) },
      });
      const punched: number[] = [];
      serverRtp.on('message', (m) => punched.push(m.length));
      const reports: number[] = [];
      serverRtcp.on('message', (m) => reports.push(m[1]!));

      await send(serverRtp, pair.rtpPort, Buffer.alloc(20));
      await send(serverRtcp, pair.rtcpPort, Buffer.alloc(8));
      await send(otherPort, pair.rtpPort, Buffer.alloc(30)); // right host, wrong port
      await send(serverRtp, pair.rtcpPort, Buffer.alloc(9)); // RTP port sending to our RTCP port
      if (otherHost) await send(otherHost, pair.rtpPort, Buffer.alloc(40));
      await until(() => t!.rejected === (otherHost ? 3 : 2) && rtp.length === 1 && rtcp.length === 1, 'every datagram sorted');
      assert.deepEqual(rtp, [20]);
      assert.deepEqual(rtcp, [8]);
      assert.equal(t.packets, 1);
      assert.ok(arrivals[0]! > 0, 'arrival time (monotonic ms) passed with the packet');

      t.punch(0x1234);
      await until(() => punched.length === 1 && reports.length === 1, 'punch reached both server ports');
      assert.deepEqual(punched, [12], 'an empty RTP header');
      assert.equal(reports[0], 201, 'an empty receiver report (RFC 3550 §6.4.2)');
    } finally {
      t?.close();
      if (!t) pair?.close();
      for (const s of sockets) s.close();
    }
  });

  test('without announced ports any port of the server address is accepted, other hosts still not', async () => {
    const sockets: dgram.Socket[] = [];
    let t: UdpTrackTransport | null = null;
    try {
      const a = await bound('127.0.0.1');
      const b = await bound('127.0.0.1');
      const stranger = await bound('127.0.0.2').catch(() => null);
      sockets.push(a, b, ...(stranger ? [stranger] : []));
      const pair = await allocateUdpPair({ range: [40000, 59999], bindAddress: '127.0.0.1' });
      let got = 0;
      // the address as a dual-stack socket reports it: compared without the ::ffff: prefix
      t = new UdpTrackTransport({ pair, serverAddress: '::ffff:127.0.0.1', serverRtpPort: null, serverRtcpPort: null, sink: { onRtp: () => { got++; }, onRtcp: () => undefined } });
      await send(a, pair.rtpPort, Buffer.alloc(12));
      await send(b, pair.rtpPort, Buffer.alloc(12));
      if (stranger) await send(stranger, pair.rtpPort, Buffer.alloc(12));
      await until(() => got === 2 && t!.rejected === (stranger ? 1 : 0), 'two accepted, the stranger dropped');
      t.sendRtcp(Buffer.alloc(8)); // no RTCP port announced: nothing to send to, and no throw
    } finally {
      t?.close();
      for (const s of sockets) s.close();
    }
  });
});
