/**
 * The bytes of one part body as it arrived: subarrays of the read buffers (never copied until
 * the part is complete), with the few lookups the multipart reader needs across piece
 * boundaries, and the single copy into an exact-size Buffer of the frame's own.
 *
 * The read buffers must not be rewritten while their subarrays are held here: socket reads
 * in Node give a fresh Buffer each time (or, with transport/read-slab.ts, never-rewound slab
 * memory), so holding them until the frame is complete costs no copy.
 */
import { isPad } from './part-headers';

export class Pieces {
  private list: Buffer[] = [];
  /** total bytes held */
  length = 0;

  add(b: Buffer): void {
    if (b.length === 0) return;
    this.list.push(b);
    this.length += b.length;
  }

  clear(): void {
    this.list = [];
    this.length = 0;
  }

  /** Keeps only the first `n` bytes. */
  truncate(n: number): void {
    if (n >= this.length) return;
    let keep = Math.max(0, n);
    const out: Buffer[] = [];
    for (const b of this.list) {
      if (keep === 0) break;
      if (b.length <= keep) { out.push(b); keep -= b.length; } else { out.push(b.subarray(0, keep)); keep = 0; }
    }
    this.list = out;
    this.length = Math.max(0, n);
  }

  /** Byte at logical index `i` (0 ≤ i < length), or -1. */
  byteAt(i: number): number {
    if (i < 0 || i >= this.length) return -1;
    let off = i;
    for (const b of this.list) {
      if (off < b.length) return b[off]!;
      off -= b.length;
    }
    return -1;
  }

  /**
   * First index ≥ from of `pat` (shorter than 256 bytes) across pieces, or -1 (only matches
   * that start before `before`).
   */
  indexOf(pat: Buffer, from = 0, before = this.length): number {
    let base = 0;
    let prevTail: Buffer | null = null;
    for (const b of this.list) {
      if (base >= before) break;
      // a match that starts in an earlier piece and ends in this one
      if (prevTail !== null && prevTail.length > 0) {
        const j = Buffer.concat([prevTail, b.subarray(0, pat.length - 1)]);
        const k = j.indexOf(pat);
        if (k >= 0 && k < prevTail.length) {
          const at = base - prevTail.length + k;
          if (at >= from && at < before) return at;
        }
      }
      const start = Math.max(0, from - base);
      if (start < b.length) {
        const k = b.indexOf(pat, start);
        if (k >= 0 && base + k < before) return base + k;
      }
      const keep = Math.min(pat.length - 1, b.length);
      prevTail = prevTail !== null && b.length < pat.length - 1
        ? Buffer.concat([prevTail, b]).subarray(-(pat.length - 1))
        : b.subarray(b.length - keep);
      base += b.length;
    }
    return -1;
  }

  /** First index ≥ from and < before of the two-byte sequence a b, or -1. */
  indexOf2(a: number, b: number, from: number, before: number): number {
    let base = 0;
    let prev = -1;
    for (const p of this.list) {
      if (base >= before) break;
      const end = Math.min(p.length, before - base + 1);
      let i = Math.max(0, from - base + 1);
      while (i < end) {
        const k = p.indexOf(b, i);
        if (k < 0 || k >= end) break;
        if ((k > 0 ? p[k - 1] : prev) === a && base + k - 1 >= from && base + k - 1 < before) return base + k - 1;
        i = k + 1;
      }
      prev = p[p.length - 1]!;
      base += p.length;
    }
    return -1;
  }

  /** Last index ≥ from and < before of the two-byte sequence a b, or -1. */
  lastIndexOf2(a: number, b: number, from: number, before: number): number {
    let end = this.length;
    for (let n = this.list.length - 1; n >= 0 && end > from; n--) {
      const p = this.list[n]!;
      const base = end - p.length;
      end = base;
      // b sits at logical index ≤ before (the pair starts before `before`)
      let i = Math.min(p.length - 1, before - base);
      while (i >= 0) {
        const k = p.lastIndexOf(b, i);
        if (k < 0) break;
        const at = base + k - 1;
        if (at < from) break;
        if (at < before && (k > 0 ? p[k - 1] : this.byteAt(base - 1)) === a) return at;
        i = k - 1;
      }
    }
    return -1;
  }

  /** The bytes [start, end) copied once into a Buffer of their own (not from the shared pool). */
  copy(start: number, end: number): Buffer {
    const out = Buffer.allocUnsafeSlow(Math.max(0, end - start));
    let base = 0;
    let o = 0;
    for (const b of this.list) {
      const s = Math.max(start - base, 0);
      const e = Math.min(end - base, b.length);
      if (e > s) o += b.copy(out, o, s, e);
      base += b.length;
      if (base >= end) break;
    }
    return out;
  }

  /**
   * The JPEG in bytes [0, before) as the scan of a part without a usable length finds it: SOI
   * (followed by a marker's 0xFF) within the first `soiWindow` bytes, EOI the last one (T.81
   * B.1.1.3: trust the picture's own markers over the framing). null when there is none.
   */
  jpegSpan(before: number, soiWindow: number): { start: number; end: number } | null {
    let s = 0;
    while (s < before && isPad(this.byteAt(s))) s++;
    if (!(this.byteAt(s) === 0xff && this.byteAt(s + 1) === 0xd8)) s = this.indexOf2(0xff, 0xd8, 0, Math.min(before, soiWindow));
    if (s < 0 || this.byteAt(s + 2) !== 0xff) return null;
    const e = this.lastIndexOf2(0xff, 0xd9, s + 2, before);
    return e < 0 ? null : { start: s, end: e + 2 };
  }

  /** Pieces from logical index `from` on (subarrays, no copy), for feeding back into a reader. */
  from(from: number): Buffer[] {
    const out: Buffer[] = [];
    let base = 0;
    for (const b of this.list) {
      if (base + b.length > from) out.push(b.subarray(Math.max(0, from - base)));
      base += b.length;
    }
    return out;
  }

  /** The last `n` bytes (fewer when not held), copied: the reader's look-behind for split delimiters. */
  tail(n: number): Buffer {
    const take = Math.min(n, this.length);
    return take === 0 ? Buffer.alloc(0) : this.copy(this.length - take, this.length);
  }
}
