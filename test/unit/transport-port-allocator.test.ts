import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { allocateUdpPair } from '../../src/transport/port-allocator';
import { parsePortRange, portRangeProblem } from '../../src/rtp/port-range';
import { reservePorts } from '../support/ports';

describe('UDP port allocator', () => {
  test('even/odd pair in range, skips a taken pair, released on close', async (t) => {
    // four ports no other test process uses
    const { first: b } = await reservePorts(4, t);
    const taken = dgram.createSocket('udp4');
    t.after(() => { try { taken.close(); } catch { /* closed below */ } });
    await new Promise<void>((r) => taken.bind(b, () => r()));
    const p = await allocateUdpPair({ range: [b, b + 3], random: () => 0 });
    t.after(() => p.close());
    assert.equal(p.rtpPort, b + 2);
    assert.equal(p.rtcpPort, b + 3);
    assert.ok(p.recvBufferSize > 0, 'granted receive buffer reported');
    await assert.rejects(allocateUdpPair({ range: [b + 2, b + 3] }), /no free UDP port pair/);
    p.close();
    taken.close();
    const again = await allocateUdpPair({ range: [b + 2, b + 3] });
    assert.equal(again.rtpPort, b + 2);
    again.close();
  });

  test('refuses the ranges the editor and the node options refuse, with the reason (one rule: rtp/port-range)', async () => {
    for (const [range, why] of [
      [[53001, 53003], /first port must be even/],
      [[1000, 1003], /1024 or more/],
      [[53000, 53000], /at least one even\/odd pair/],
      [[65534, 65536], /65535 or less/],
      [[53000.5, 53003], /whole port numbers/],
    ] as [[number, number], RegExp][]) {
      assert.equal(parsePortRange(`${range[0]}-${range[1]}`), null, String(range));
      const got = await allocateUdpPair({ range }).then((pair) => {
        pair.close();
        return `bound ${pair.rtpPort}`;
      }, (e: Error) => e.message);
      assert.match(got, /invalid UDP port range/, String(range));
      assert.match(got, why, String(range));
    }
    assert.equal(portRangeProblem([53000, 53001]), null);
  });
});
