import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { allocateUdpPair } from '../../src/transport/port-allocator';

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
});
