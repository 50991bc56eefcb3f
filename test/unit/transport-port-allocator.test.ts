import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { allocateUdpPair } from '../../src/transport/port-allocator';
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
});
