/**
 * The DC-only JPEG reader against an independent full decode (libjpeg-turbo's djpeg, luma
 * plane): every JPEG fixture and every 5th frame of every captured vector, plus the cjpeg-made
 * fixtures dc-*.jpg (4:2:0, 4:2:2, 4:4:0, 4:4:4, 4:1:1, grey, restart intervals in rows and in
 * MCUs, optimized tables, sizes that are not a multiple of the MCU). Refusals (progressive,
 * arithmetic, lossless), Motion-JPEG frames without DHT, RSTn without DRI, truncation.
 *
 * What "equal" means: a block's DC is the mean of the block the encoder saw. The decoder's
 * block mean differs from it only by rounding, by clipping (samples the IDCT puts below 0 or
 * above 255 are clamped, which can only raise a block's mean at 0 and lower it at 255), and at
 * the right and bottom edges, where the encoder's padding is cropped from the decoded picture.
 * So: within ±2 on every whole block without a clamped sample; on clamped blocks within ±2 in
 * the direction clamping cannot explain; edge blocks are counted but not compared.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDcMap, JpegDcError, type DcMap } from '../../src/jpeg/dc-reader';
import { JpegEncoder } from '../../src/jpeg/encoder';
import { skipUnlessPeer } from '../support/peers';

const FIX = join(__dirname, '..', 'fixtures', 'jpeg');
const REF = join(__dirname, '..', 'fixtures', 'vectors', 'reference');
const fixture = (f: string): Buffer => readFileSync(join(FIX, f));

/** djpeg -grayscale: the decoded luma plane (no colour conversion to undo). */
function djpegLuma(jpeg: Buffer): { w: number; h: number; px: Buffer } {
  const r = spawnSync('djpeg', ['-grayscale', '-pnm'], { input: jpeg, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr?.toString());
  const b = r.stdout;
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4) {
    while (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09) i++;
    let s = '';
    while (b[i] !== 0x20 && b[i] !== 0x0a && b[i] !== 0x0d && b[i] !== 0x09) s += String.fromCharCode(b[i++]!);
    fields.push(s);
  }
  assert.equal(fields[0], 'P5');
  return { w: Number(fields[1]), h: Number(fields[2]), px: b.subarray(i + 1) };
}

interface Agreement {
  /** largest |DC mean − decoded mean| over whole blocks without a clamped sample */
  maxUnclamped: number;
  /** largest difference clamping cannot explain on blocks with a clamped sample */
  maxClampedWrongWay: number;
  /** largest difference over all whole blocks, for the record */
  maxAll: number;
  blocks: number;
  edgeBlocks: number;
}

export function agreement(map: DcMap, jpeg: Buffer): Agreement {
  const g = djpegLuma(jpeg);
  assert.equal(g.w, map.width);
  assert.equal(g.h, map.height);
  const a: Agreement = { maxUnclamped: 0, maxClampedWrongWay: 0, maxAll: 0, blocks: 0, edgeBlocks: 0 };
  for (let by = 0; by < map.rows; by++) {
    for (let bx = 0; bx < map.cols; bx++) {
      if ((bx + 1) * 8 > g.w || (by + 1) * 8 > g.h) {
        a.edgeBlocks++;
        continue;
      }
      let sum = 0, low = false, high = false;
      for (let y = by * 8; y < by * 8 + 8; y++) {
        for (let x = bx * 8; x < bx * 8 + 8; x++) {
          const v = g.px[y * g.w + x]!;
          sum += v;
          if (v === 0) low = true;
          if (v === 255) high = true;
        }
      }
      const decoded = sum / 64;
      const dc = map.means[by * map.cols + bx]!;
      const d = decoded - dc;
      a.blocks++;
      a.maxAll = Math.max(a.maxAll, Math.abs(d));
      if (!low && !high) a.maxUnclamped = Math.max(a.maxUnclamped, Math.abs(d));
      else {
        // clamping at 0 only raises the decoded mean, at 255 only lowers it
        const wrong = low && !high ? -d : high && !low ? d : 0;
        a.maxClampedWrongWay = Math.max(a.maxClampedWrongWay, wrong);
      }
    }
  }
  return a;
}

function assertAgrees(name: string, jpeg: Buffer): Agreement {
  const map = readDcMap(jpeg);
  const a = agreement(map, jpeg);
  assert.ok(a.blocks > 0, `${name}: no whole block`);
  assert.ok(a.maxUnclamped <= 2, `${name}: unclamped block off by ${a.maxUnclamped.toFixed(2)}`);
  assert.ok(a.maxClampedWrongWay <= 2, `${name}: clamped block off by ${a.maxClampedWrongWay.toFixed(2)} the wrong way`);
  return a;
}

/** JPEG segments by marker, for building variants */
function segments(jpeg: Buffer): { marker: number; start: number; end: number }[] {
  const out: { marker: number; start: number; end: number }[] = [];
  let p = 2;
  while (p + 4 <= jpeg.length) {
    const marker = jpeg[p + 1]!;
    const len = jpeg.readUInt16BE(p + 2);
    out.push({ marker, start: p, end: p + 2 + len });
    if (marker === 0xda) break;
    p += 2 + len;
  }
  return out;
}
function without(jpeg: Buffer, marker: number): Buffer {
  const cut = segments(jpeg).filter((s) => s.marker === marker);
  assert.ok(cut.length > 0, `no FF${marker.toString(16)} to remove`);
  const parts: Buffer[] = [];
  let p = 0;
  for (const s of cut) {
    parts.push(jpeg.subarray(p, s.start));
    p = s.end;
  }
  parts.push(jpeg.subarray(p));
  return Buffer.concat(parts);
}

describe('DC reader: agreement with djpeg', () => {
  const BASELINE = readdirSync(FIX).filter((f) => f.endsWith('.jpg') && f !== 'progressive.jpg' && f !== 'dc-arithmetic.jpg').sort();

  test('every baseline JPEG fixture, including the cjpeg-made dc-*.jpg set', (t) => {
    if (!skipUnlessPeer(t, 'djpeg')) return;
    const report: string[] = [];
    for (const f of BASELINE) {
      const a = assertAgrees(f, fixture(f));
      report.push(`${f}: max ${a.maxUnclamped.toFixed(2)} (all ${a.maxAll.toFixed(2)})`);
    }
    for (const s of ['420', '422', '440', '444', '411', 'grey', '420-rst1', '422-rst7b', '444-rst1b-q95', 'grey-rst2', '420-optimize-q20']) {
      assert.ok(BASELINE.includes(`dc-${s}.jpg`), `fixture dc-${s}.jpg`);
    }
    t.diagnostic(report.join('; '));
  });

  test('every 5th frame of every captured vector (GStreamer, FFmpeg, VLC senders)', (t) => {
    if (!skipUnlessPeer(t, 'djpeg')) return;
    const report: string[] = [];
    for (const v of readdirSync(REF).sort()) {
      // frames no decoder displays: bad Huffman tables, or RSTn without DRI (tested below)
      if (v.endsWith('-BROKEN')) continue;
      const frames = readdirSync(join(REF, v)).filter((f) => f.endsWith('.jpg')).sort();
      if (frames.length === 0) continue;
      let worst = 0;
      for (let i = 0; i < frames.length; i += 5) {
        const a = assertAgrees(`${v}/${frames[i]}`, readFileSync(join(REF, v, frames[i]!)));
        worst = Math.max(worst, a.maxUnclamped);
      }
      report.push(`${v}: ${worst.toFixed(2)}`);
    }
    assert.ok(report.length >= 10, 'vectors found');
    t.diagnostic(report.join('; '));
  });
});

describe('DC reader: layout', () => {
  test('sampling, size and block grid of each kind', () => {
    const cases: [string, string, number, number][] = [
      ['dc-420.jpg', '420', 42, 32], ['dc-422.jpg', '422', 42, 32], ['dc-444.jpg', '444', 42, 32],
      ['dc-440.jpg', '1x2', 42, 32], ['dc-411.jpg', '4x1', 42, 32], ['dc-grey.jpg', 'grey', 42, 32],
      ['q50-420.jpg', '420', 40, 30],
    ];
    for (const [f, sampling, cols, rows] of cases) {
      const m = readDcMap(fixture(f));
      assert.equal(m.sampling, sampling, f);
      assert.equal(m.cols, cols, f);
      assert.equal(m.rows, rows, f);
      assert.equal(m.means.length, cols * rows);
    }
    const large = readdirSync(join(REF, 'gst-large-2560x1440-3fps-tcp')).find((f) => f.endsWith('.jpg'))!;
    const m = readDcMap(readFileSync(join(REF, 'gst-large-2560x1440-3fps-tcp', large)));
    assert.deepEqual([m.width, m.height, m.cols, m.rows], [2560, 1440, 320, 180]);
  });

  test('flat blocks from the project encoder come back as their value (within the DC quantizer step)', () => {
    const enc = new JpegEncoder({ width: 64, height: 48, subsampling: '420', quality: 90 });
    const p = enc.allocPlanes();
    p.cb.fill(128);
    p.cr.fill(128);
    for (let y = 0; y < p.yRows; y++) for (let x = 0; x < p.yStride; x++) p.y[y * p.yStride + x] = 16 + ((x >> 3) + 8 * (y >> 3)) * 4;
    const m = readDcMap(enc.encode(p));
    assert.deepEqual([m.cols, m.rows], [8, 6]);
    for (let by = 0; by < 6; by++) {
      for (let bx = 0; bx < 8; bx++) {
        const want = 16 + (bx + 8 * by) * 4;
        assert.ok(Math.abs(m.means[by * 8 + bx]! - want) <= 0.5, `block ${bx},${by}: ${m.means[by * 8 + bx]} vs ${want}`);
      }
    }
  });

  test('reuse: the given array is filled when its length fits, a new one otherwise', () => {
    const a = readDcMap(fixture('q50-420.jpg'));
    const again = readDcMap(fixture('q50-420.jpg'), { reuse: a.means });
    assert.equal(again.means, a.means);
    const other = readDcMap(fixture('dc-420.jpg'), { reuse: a.means });
    assert.notEqual(other.means, a.means);
  });
});

describe('DC reader: Motion-JPEG variants', () => {
  test('a frame without DHT is read with the Annex K tables, as Motion-JPEG decoders do', () => {
    const full = fixture('q50-420.jpg'); // cjpeg without -optimize: the Annex K tables
    const bare = without(full, 0xc4);
    assert.ok(bare.length < full.length);
    assert.deepEqual(readDcMap(bare).means, readDcMap(full).means);
  });

  test('RSTn markers without DRI: restarts where the markers are', () => {
    for (const f of ['dc-420-rst1.jpg', 'dc-422-rst7b.jpg', 'type65-420-dri3blocks.jpg', 'dc-grey-rst2.jpg']) {
      const full = fixture(f);
      assert.deepEqual(readDcMap(without(full, 0xdd)).means, readDcMap(full).means, f);
    }
  });

  test('FFmpeg slice-threaded frames (RSTn, no DRI) read like the same stream without slices', () => {
    const broken = join(REF, 'ffmpeg-rtp-udp-rst-no-dri-BROKEN');
    const plain = join(REF, 'ffmpeg-rtp-udp-2qtables');
    // same encoder and settings; frame 0 of both shows the same picture
    const a = readDcMap(readFileSync(join(broken, 'gst-00000.jpg')));
    const b = readDcMap(readFileSync(join(plain, 'gst-00000.jpg')));
    let maxDiff = 0;
    for (let i = 0; i < a.means.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.means[i]! - b.means[i]!));
    assert.ok(maxDiff <= 2, `max difference ${maxDiff}`);
  });
});

describe('DC reader: refusals and bad input', () => {
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof JpegDcError, `not a JpegDcError: ${String(e)}`);
      return e.code;
    }
    return 'no error';
  };

  test('progressive, arithmetic-coded and lossless frames get their own error code', () => {
    assert.equal(code(() => readDcMap(fixture('progressive.jpg'))), 'progressive');
    assert.equal(code(() => readDcMap(fixture('dc-arithmetic.jpg'))), 'arithmetic');
    const q = fixture('q50-420.jpg');
    const sof = segments(q).find((s) => s.marker === 0xc0)!;
    const lossless = Buffer.from(q);
    lossless[sof.start + 1] = 0xc3;
    assert.equal(code(() => readDcMap(lossless)), 'lossless');
    const err = (() => { try { readDcMap(fixture('progressive.jpg')); } catch (e) { return e as Error; } return null; })();
    assert.match(String(err?.message), /progressive/i);
  });

  test('not a JPEG, truncated data, a header claiming a huge picture', () => {
    assert.equal(code(() => readDcMap(Buffer.from('hello world'))), 'not jpeg');
    assert.equal(code(() => readDcMap(Buffer.alloc(0))), 'not jpeg');
    const q = fixture('q50-420.jpg');
    for (const cut of [q.length - 2, Math.floor(q.length * 0.6), 700, 200, 3]) {
      const c = code(() => readDcMap(q.subarray(0, cut)));
      // cutting only the EOI leaves a whole scan, which reads
      if (cut === q.length - 2) assert.equal(c, 'no error');
      else assert.ok(['truncated', 'corrupt', 'not jpeg'].includes(c), `cut at ${cut}: ${c}`);
    }
    const sof = segments(q).find((s) => s.marker === 0xc0)!;
    const huge = Buffer.from(q);
    huge.writeUInt16BE(60000, sof.start + 5);
    huge.writeUInt16BE(60000, sof.start + 7);
    const t0 = process.hrtime.bigint();
    assert.ok(['truncated', 'too large'].includes(code(() => readDcMap(huge))));
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 1000, 'refused without decoding');
    assert.equal(code(() => readDcMap(huge, { maxPixels: 1e6 })), 'too large');
  });

  test('garbage in the scan data is an error or a map, never another exception', () => {
    const q = fixture('dc-420-rst1.jpg');
    const sos = segments(q).find((s) => s.marker === 0xda)!;
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(q);
      for (let k = 0; k < 1 + i % 20; k++) b[sos.end + Math.floor(rnd() * (b.length - sos.end - 2))] = Math.floor(rnd() * 256);
      const c = code(() => readDcMap(b));
      assert.ok(['no error', 'corrupt', 'truncated'].includes(c), c);
    }
  });
});
