import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import fc from 'fast-check';
import { ReadSlab } from '../../src/transport/read-slab';

describe('ReadSlab (onread memory that is never overwritten)', () => {
  test('property: regions handed out never overlap bytes already filled; a read gets at least the minimum', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 200 }), (reads) => {
      const slab = new ReadSlab(8192, 1024);
      const kept: { chunk: Buffer; fill: number }[] = [];
      reads.forEach((want, i) => {
        const region = slab.next();
        assert.ok(region.length >= 1024, `region of ${region.length} < minimum`);
        const n = Math.min(want, region.length);
        region.fill(i & 0xff, 0, n);
        kept.push({ chunk: slab.filled(region, n), fill: i & 0xff });
      });
      // every earlier chunk still holds what was written into it
      for (const { chunk, fill } of kept) assert.ok(chunk.every((b) => b === fill));
    }), { numRuns: 300 });
  });

  test('as net.Socket onread: every byte arrives in order, earlier chunks stay intact', async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 13)) & 0xff;
    const server = net.createServer((s) => { s.end(payload); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const slab = new ReadSlab();
    const chunks: Buffer[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect({
          host: '127.0.0.1', port,
          onread: { buffer: () => slab.next(), callback: (n, region) => { chunks.push(slab.filled(region as Buffer, n)); return true; } },
        });
        sock.on('end', () => resolve());
        sock.on('error', reject);
      });
    } finally {
      server.close();
    }
    assert.ok(chunks.length > 1);
    assert.ok(Buffer.concat(chunks).equals(payload), 'bytes differ: a region was reused or a read lost');
  });
});
