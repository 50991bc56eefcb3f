import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { qTablesForQ, ZIGZAG, STD_HUFFMAN } from '../../src/jpeg/tables';
import { makeJpegHeader, jpegHeaderLength } from '../../src/jpeg/header';
import { parseBaselineJpeg } from '../../src/jpeg/packetizer';

const VEC = join(__dirname, '..', 'fixtures', 'vectors');
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

describe('RFC 2435 Appendix A tables', () => {
  test('reference rows (as GStreamer jpegenc writes them), zig-zag order', () => {
    const rows: [number, string, string][] = [
      [1, 'ffffffffffffffff', 'ffffffffffffffff'],
      [10, '50373c463c325046', '555a5a786978eb82'],
      [50, '100b0c0e0c0a100e', '1112121815182f1a'],
      [63, '0c08090a09070c0a', '0d0d0d1210122313'],
      [75, '0806060706050807', '0909090c0b0c180d'],
      [99, '0101010101010101', '0101010101010101'],
    ];
    for (const [q, l, c] of rows) {
      const t = qTablesForQ(q)!;
      assert.equal(t.luma.length, 64);
      assert.equal(hex(t.luma.subarray(0, 8)), l, `Q ${q} luma`);
      assert.equal(hex(t.chroma.subarray(0, 8)), c, `Q ${q} chroma`);
    }
    // natural order would start 0c 08 07 0c 12 1e 26 2d for Q 63
    assert.notEqual(hex(qTablesForQ(63)!.luma.subarray(0, 8)), '0c08070c121e262d');
  });

  test('equal to libjpeg quality scaling: GStreamer jpegenc (q 85) and cjpeg -quality 50/30/75 DQTs', () => {
    const gst = parseBaselineJpeg(readFileSync(join(VEC, 'reference', 'gst-tcp-320x240', 'gst-00000.jpg')));
    assert.equal(hex(gst.tables[0]), hex(qTablesForQ(85)!.luma));
    assert.equal(hex(gst.tables[1]), hex(qTablesForQ(85)!.chroma));
    for (const [file, q] of [['q50-420.jpg', 50], ['q30-422.jpg', 30], ['type65-420-dri.jpg', 75]] as const) {
      const j = parseBaselineJpeg(readFileSync(join(__dirname, '..', 'fixtures', 'jpeg', file)));
      assert.equal(hex(j.tables[0]), hex(qTablesForQ(q)!.luma), file);
      assert.equal(hex(j.tables[1]), hex(qTablesForQ(q)!.chroma), file);
    }
  });

  test('only Q 1..99; cached (same object)', () => {
    for (const q of [0, 100, 127, 128, 255, -1, 1.5, NaN]) assert.equal(qTablesForQ(q), null, String(q));
    assert.equal(qTablesForQ(42), qTablesForQ(42));
    for (let q = 1; q <= 99; q++) {
      const t = qTablesForQ(q)!;
      for (const v of [...t.luma, ...t.chroma]) assert.ok(v >= 1 && v <= 255);
    }
  });

  test('ZIGZAG is a permutation of 0..63 starting 0,1,8,16', () => {
    assert.deepEqual([...ZIGZAG].sort((a, b) => a - b), Array.from({ length: 64 }, (_, i) => i));
    assert.deepEqual([...ZIGZAG.subarray(0, 4)], [0, 1, 8, 16]);
    assert.equal(ZIGZAG[63], 63);
  });

  test('Annex K.3 Huffman tables: code counts match symbol counts', () => {
    for (const [name, spec] of Object.entries(STD_HUFFMAN)) {
      const n = spec.bits.reduce((a, b) => a + b, 0);
      assert.equal(n, spec.values.length, name);
    }
    assert.equal(STD_HUFFMAN.acLuma.values.length, 162);
    assert.equal(STD_HUFFMAN.dcChroma.values.length, 12);
  });
});

describe('JPEG header (Appendix B), GStreamer 1.22 layout', () => {
  for (const [name, type, dri] of [['gst-tcp-320x240', 1, 0], ['gst-dri-tcp', 1, 20], ['gst-type0-422-tcp', 0, 0]] as const) {
    test(`byte-identical to rtpjpegdepay header: ${name}`, () => {
      const ref = readFileSync(join(VEC, 'reference', name, 'gst-00003.jpg'));
      const info = parseBaselineJpeg(ref);
      const h = makeJpegHeader({ type, width: 320, height: 240, luma: info.tables[0], chroma: info.tables[1], restartInterval: dri });
      assert.equal(h.length, jpegHeaderLength({ type, width: 320, height: 240, luma: info.tables[0], chroma: info.tables[1], restartInterval: dri }));
      assert.equal(h.length, dri ? 611 : 605, 'header size of GStreamer rtpjpegdepay');
      assert.ok(ref.subarray(0, h.length).equals(h));
    });
  }
});
