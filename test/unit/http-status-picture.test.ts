/**
 * The live view's status picture and the bitmap font it draws with: every printable ASCII
 * character and the status texts' typography have glyphs, text wraps within its width, and
 * the picture is a baseline JPEG of the asked size that libjpeg-turbo (djpeg) decodes, with
 * the text drawn where it should be.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CELL_WIDTH, LINE_HEIGHT, drawText, hasGlyph } from '../../src/jpeg/bitmap-font';
import { StatusPicture, wrapText, DEFAULT_PICTURE_WIDTH, DEFAULT_PICTURE_HEIGHT } from '../../src/http/status-picture';
import { decodeJpeg, djpegAvailable } from '../support/djpeg';

describe('jpeg/bitmap-font', () => {
  test('every printable ASCII character, the middle dot and × have a glyph', () => {
    const missing: string[] = [];
    for (let c = 0x21; c < 0x7f; c++) if (!hasGlyph(String.fromCharCode(c))) missing.push(String.fromCharCode(c));
    for (const c of ['\u00b7', '\u00d7']) if (!hasGlyph(c)) missing.push(c);
    assert.deepEqual(missing, []);
  });

  test('draws into its cell, clipped to the plane', () => {
    const p = { data: new Uint8Array(20 * 10), stride: 20, rows: 10 };
    drawText(p, 'I', 0, 0, 1, 255);
    // "I": a 3-pixel bar on top and bottom, a 1-pixel stem, in columns 1..3 of a 5-wide glyph
    const row = (r: number): string => Array.from(p.data.subarray(r * 20, r * 20 + CELL_WIDTH), (v) => (v ? '#' : '.')).join('');
    assert.deepEqual([0, 1, 6, 7].map(row), ['.###..', '..#...', '.###..', '......']);
    drawText(p, 'WWWWWW', 15, 8, 2, 7);
    assert.ok(p.data.every((v) => v === 0 || v === 255 || v === 7), 'nothing outside the plane is written');
    assert.equal(LINE_HEIGHT, 9);
  });
});

describe('http/status-picture', () => {
  test('wrapText: lines fit the width and keep every word in order (property)', () => {
    fc.assert(fc.property(fc.array(fc.stringMatching(/^[a-z0-9()·,.:]{1,30}$/), { maxLength: 30 }), fc.integer({ min: 1, max: 40 }), (words, width) => {
      const lines = wrapText(words.join(' '), width);
      assert.ok(lines.every((l) => l.length <= width && l.length > 0));
      assert.equal(lines.join(' ').replace(/ /g, ''), words.join(''));
    }));
  });

  test('a JPEG of the asked size that djpeg decodes, text bright on dark, a red band on top', (t) => {
    if (!djpegAvailable()) t.diagnostic('djpeg missing: decoded with jpeg-js');
    for (const [w, h] of [[640, 360], [320, 240], [1920, 1080], [177, 99]] as const) {
      const jpeg = new StatusPicture(w, h).render({ title: 'front door', message: 'connection refused · retry in 30 s', footer: 'since 12:03:04' });
      const d = decodeJpeg(jpeg);
      assert.ok(d.ok, `${w}×${h}: ${d.error ?? ''}`);
      assert.equal(d.width, w);
      assert.equal(d.height, h);
      const px = d.pixels as Buffer;
      const at = (x: number, y: number): number[] => Array.from(px.subarray((y * w + x) * 3, (y * w + x) * 3 + 3));
      const [r, g] = at(Math.floor(w / 2), 1) as [number, number];
      assert.ok(r > 150 && g < 100, `${w}×${h}: red band, got ${at(Math.floor(w / 2), 1).join(',')}`);
      let bright = 0;
      for (let y = Math.floor(h / 4); y < Math.floor((3 * h) / 4); y++) for (let x = 0; x < w; x++) if ((at(x, y)[1] ?? 0) > 200) bright++;
      assert.ok(bright > w * h * 0.005, `${w}×${h}: text drawn (${bright} bright pixels)`);
    }
  });

  test('sizes out of range fall back or are capped; any text renders', () => {
    assert.equal(new StatusPicture(0, 0).width, DEFAULT_PICTURE_WIDTH);
    assert.equal(new StatusPicture(NaN, 10).height, DEFAULT_PICTURE_HEIGHT);
    assert.equal(new StatusPicture(100000, 480).width, 4096);
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
      const jpeg = new StatusPicture(160, 120).render({ message: text, title: text, footer: text });
      assert.ok(jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg[jpeg.length - 2] === 0xff && jpeg[jpeg.length - 1] === 0xd9);
    }), { numRuns: 50 });
  });
});
