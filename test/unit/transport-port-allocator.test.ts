import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { allocateUdpPair } from '../../src/transport/port-allocator';
import { parsePortRange, portRangeProblem } from '../../src/rtp/port-range';

describe('UDP port allocator', () => {
  test('even/odd pair in range, skips a taken pair, released on close', async () => {
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((r) => taken.bind(53000, () => r()));
    const p = await allocateUdpPair({ range: [53000, 53003], random: () => 0 });
    assert.equal(p.rtpPort, 53002);
    assert.equal(p.rtcpPort, 53003);
    assert.ok(p.recvBufferSize > 0, 'granted receive buffer reported');
    await assert.rejects(allocateUdpPair({ range: [53002, 53003] }), /no free UDP port pair/);
    p.close();
    taken.close();
    const again = await allocateUdpPair({ range: [53002, 53003] });
    assert.equal(again.rtpPort, 53002);
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
