import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import jpeg from 'jpeg-js';
import { JpegEncoder } from '../../src/jpeg/encoder';
import { TestPattern, formatClock } from '../../src/sim/test-pattern';
import { qTablesForQ } from '../../src/jpeg/tables';
import { parseBaselineJpeg, JpegPacketizer } from '../../src/jpeg/packetizer';
import { JpegDepacketizer } from '../../src/jpeg/depacketizer';
import { decodeJpeg, djpegAvailable } from '../support/djpeg';

/** Smooth colourful RGB test image (gradients + a soft disc): what a camera scene looks like to a DCT. */
function smoothRgb(w: number, h: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const d = Math.hypot(x - w / 2, y - h / 2) / (Math.min(w, h) / 3);
      const disc = d < 1 ? 60 * (1 - d * d) : 0;
      rgb[i] = Math.min(255, Math.round((255 * x) / w * 0.8 + disc));
      rgb[i + 1] = Math.min(255, Math.round((255 * y) / h * 0.8 + disc));
      rgb[i + 2] = Math.min(255, Math.round(128 + 100 * Math.sin(x / 23 + y / 31)));
    }
  }
  return rgb;
}

function psnrRgb(a: Uint8Array, b: Uint8Array, stride: number): number {
  let se = 0;
  let n = 0;
  for (let i = 0, j = 0; i < a.length; i += 3, j += stride) {
    for (let c = 0; c < 3; c++) {
      const d = a[i + c]! - b[j + c]!;
      se += d * d;
      n++;
    }
  }
  const mse = se / n;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

function countRst(buf: Buffer): number {
  let n = 0;
  for (let i = 0; i + 1 < buf.length; i++) if (buf[i] === 0xff && buf[i + 1]! >= 0xd0 && buf[i + 1]! <= 0xd7) n++;
  return n;
}

describe('jpeg/encoder', () => {
  for (const subsampling of ['420', '422'] as const) {
    test(`4:${subsampling === '420' ? '2:0' : '2:2'} output decodes with jpeg-js, PSNR > 30 dB at quality 95`, () => {
      const w = 160, h = 120;
      const src = smoothRgb(w, h);
      const enc = new JpegEncoder({ width: w, height: h, subsampling, quality: 95 });
      const out = enc.encode(enc.rgbToPlanes(src));
      assert.equal(out.readUInt16BE(0), 0xffd8);
      assert.equal(out.readUInt16BE(out.length - 2), 0xffd9);
      const img = jpeg.decode(out, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
      assert.equal(img.width, w);
      assert.equal(img.height, h);
      const p = psnrRgb(src, img.data, 3);
      assert.ok(p > 30, `PSNR ${p.toFixed(1)} dB`);
      // What the RFC 2435 packetizer sees: type 1 for 4:2:0, type 0 for 4:2:2.
      assert.equal(parseBaselineJpeg(out).type, subsampling === '420' ? 1 : 0);
    });
  }

  test('decodes with djpeg without warnings (when djpeg is installed)', (t) => {
    if (!djpegAvailable()) {
      t.skip('djpeg not installed');
      return;
    }
    const w = 320, h = 240;
    const src = smoothRgb(w, h);
    for (const ri of [0, 20, 7]) {
      const enc = new JpegEncoder({ width: w, height: h, quality: 95, restartInterval: ri });
      const r = decodeJpeg(enc.encode(enc.rgbToPlanes(src)));
      assert.ok(r.ok, r.error);
      assert.equal(r.width, w);
      assert.ok(psnrRgb(src, r.pixels!, 3) > 30);
    }
  });

  test('restart interval writes DRI and one RSTn per interval, and still decodes', () => {
    const w = 320, h = 240; // 20×15 MCUs at 4:2:0
    const enc = new JpegEncoder({ width: w, height: h, quality: 85, restartInterval: 20 });
    const out = enc.encode(enc.rgbToPlanes(smoothRgb(w, h)));
    const info = parseBaselineJpeg(out);
    assert.equal(info.restartInterval, 20);
    assert.equal(countRst(info.scan), 14); // 15 MCU rows → 14 markers (as GStreamer's DRI vector)
    const img = jpeg.decode(out, { useTArray: true, formatAsRGBA: false });
    assert.equal(img.width, w);
    assert.ok(psnrRgb(smoothRgb(w, h), img.data, 3) > 30);
  });

  test('q 1..99 uses exactly the RFC 2435 Appendix A tables (sendable with that Q, no tables)', () => {
    for (const q of [10, 50, 75, 99]) {
      const enc = new JpegEncoder({ width: 64, height: 48, q });
      const out = enc.encode(enc.rgbToPlanes(smoothRgb(64, 48)));
      const info = parseBaselineJpeg(out);
      assert.deepEqual(new Uint8Array(info.tables[0]), qTablesForQ(q)!.luma);
      assert.deepEqual(new Uint8Array(info.tables[1]), qTablesForQ(q)!.chroma);
      const pk = new JpegPacketizer({ ssrc: 1, initialSequence: 0 });
      const pkts = pk.packetize(out, 1234, { q });
      assert.equal(pkts[0]![17], q);
      const dp = new JpegDepacketizer();
      let frame = null;
      for (const p of pkts) frame = dp.push(p) ?? frame;
      assert.ok(frame, 'depacketizer rebuilt the frame');
      assert.ok(decodeJpeg(frame.jpeg).ok);
    }
    assert.throws(() => new JpegEncoder({ width: 16, height: 16, q: 100 }), RangeError);
  });

  test('packetizer → depacketizer gives back the encoded frame byte for byte (same header layout)', () => {
    for (const [subsampling, restartInterval, q] of [['420', 0, 255], ['422', 0, 140], ['420', 20, 255], ['422', 7, 75]] as const) {
      const enc = new JpegEncoder({ width: 320, height: 240, subsampling, restartInterval, ...(q < 100 ? { q } : {}) });
      const out = enc.encode(enc.rgbToPlanes(smoothRgb(320, 240)));
      const pkts = new JpegPacketizer({ ssrc: 7, initialSequence: 65530 }).packetize(out, 90000, { q });
      const dp = new JpegDepacketizer();
      let frame = null;
      for (const p of pkts) frame = dp.push(p) ?? frame;
      assert.ok(frame, `frame for ${subsampling}/${restartInterval}/${q}`);
      assert.ok(frame.jpeg.equals(out), `round trip ${subsampling}/${restartInterval}/${q} is byte-exact`);
    }
  });

  test('sizes that are not MCU multiples decode at the exact size', () => {
    const w = 100, h = 58;
    const enc = new JpegEncoder({ width: w, height: h, quality: 90 });
    const img = jpeg.decode(enc.encode(enc.rgbToPlanes(smoothRgb(w, h))), { useTArray: true, formatAsRGBA: false });
    assert.equal(img.width, w);
    assert.equal(img.height, h);
    assert.ok(psnrRgb(smoothRgb(w, h), img.data, 3) > 28);
  });

  test('the unchanged-block cache is bit-exact: cached encode equals a fresh encode', () => {
    const w = 320, h = 240;
    const cached = new JpegEncoder({ width: w, height: h, quality: 85, restartInterval: 20 });
    const planes = cached.allocPlanes();
    const pattern = new TestPattern(w, h, planes);
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    for (let i = 0; i < 5; i++) {
      pattern.render(planes, i, t0 + i * 40);
      const a = cached.encode(planes);
      if (i > 0) assert.ok(cached.lastTransformedBlocks < (w * h * 1.5) / 64 / 2, 'most blocks came from the cache');
      const fresh = new JpegEncoder({ width: w, height: h, quality: 85, restartInterval: 20 });
      assert.ok(a.equals(fresh.encode(planes)), `frame ${i} differs from a fresh encode`);
    }
  });
});

describe('sim/test-pattern', () => {
  test('deterministic for (index, time); moving box and text change between frames', () => {
    const enc = new JpegEncoder({ width: 320, height: 240 });
    const a = enc.allocPlanes(), b = enc.allocPlanes();
    const p = new TestPattern(320, 240, a);
    p.render(a, 7, 1000);
    p.render(b, 7, 1000);
    assert.deepEqual(a.y, b.y);
    p.render(b, 8, 1000);
    assert.notDeepEqual(a.y, b.y);
    p.render(b, 7, 2345);
    assert.notDeepEqual(a.y, b.y);
    assert.notDeepEqual(a.cb, new Uint8Array(a.cb.length).fill(a.cb[0]!)); // colour bars present
  });

  test('the whole pattern decodes to something close to the planes', () => {
    const enc = new JpegEncoder({ width: 640, height: 480, quality: 95 });
    const planes = enc.allocPlanes();
    new TestPattern(640, 480, planes).render(planes, 123, Date.now());
    const img = jpeg.decode(enc.encode(planes), { useTArray: true, formatAsRGBA: false });
    // Compare luma of the decoded image with the source Y plane.
    let se = 0;
    for (let y = 0; y < 480; y++) {
      for (let x = 0; x < 640; x++) {
        const i = (y * 640 + x) * 3;
        const yy = 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
        const d = yy - planes.y[y * planes.yStride + x]!;
        se += d * d;
      }
    }
    const psnr = 10 * Math.log10((255 * 255) / (se / (640 * 480)));
    assert.ok(psnr > 30, `luma PSNR ${psnr.toFixed(1)}`);
  });

  test('formatClock gives HH:MM:SS.mmm', () => {
    assert.match(formatClock(Date.now()), /^\d\d:\d\d:\d\d\.\d{3}$/);
  });
});
