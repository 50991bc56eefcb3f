/**
 * Seeded, deterministic mutation engine for the fuzz suite.
 *
 * Cheap on purpose: the bulk loops run hundreds of thousands of cases per parser on a 2-core
 * machine, so a mutation is a handful of byte operations on one copy of the seed, not a
 * generator with shrinking. Same seed → same sequence of cases, so any failure reproduces from
 * (target, seed, case index) as well as from the saved input.
 */

/** mulberry32: small, fast, good enough for choosing mutations; fully determined by the seed. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** uniform 32-bit unsigned integer */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** integer in [0, n) (n ≥ 1) */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }

  /** integer in [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** true with probability num/den */
  chance(num: number, den: number): boolean {
    return this.int(den) < num;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Byte values that sit on parser decision boundaries (sign bits, all-ones, text delimiters). */
const INTERESTING_8 = [0x00, 0x01, 0x02, 0x0a, 0x0d, 0x10, 0x20, 0x24, 0x3a, 0x3b, 0x3d, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xd8, 0xd9, 0xfe, 0xff];
const INTERESTING_16 = [0x0000, 0x0001, 0x007f, 0x0080, 0x00ff, 0x0100, 0x7fff, 0x8000, 0xfffe, 0xffff, 0xffd8, 0xffd9];
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x00010000];

export interface MutateOptions {
  /** output never longer than this (bytes) */
  maxLength: number;
  /** tokens worth inserting or overwriting with (text protocols: "\r\n", "Content-Length: "…) */
  dictionary?: readonly Buffer[];
  /** second seed for splicing; another corpus entry */
  other?: Buffer;
  /** most stacked mutations per case (default 4) */
  maxStack?: number;
}

/** Writes `value` as a big- or little-endian field of `width` bytes at `at`, clipped to the buffer. */
function writeField(b: Buffer, at: number, width: 2 | 4, value: number, little: boolean): void {
  for (let k = 0; k < width; k++) {
    const shift = little ? 8 * k : 8 * (width - 1 - k);
    if (at + k < b.length) b[at + k] = (value >>> shift) & 0xff;
  }
}

/**
 * One mutated copy of `seed` (the seed itself is never modified). 1..maxStack stacked
 * mutations, chosen with a bias towards small edits so most cases stay close to the real
 * traffic and reach deep parser states.
 */
export function mutate(rng: Rng, seed: Buffer, opts: MutateOptions): Buffer {
  let b: Buffer = Buffer.from(seed);
  const stack = 1 + (rng.chance(1, 2) ? 0 : rng.int(opts.maxStack ?? 4));
  for (let m = 0; m < stack; m++) b = mutateOnce(rng, b, opts);
  return b.length > opts.maxLength ? b.subarray(0, opts.maxLength) : b;
}

function mutateOnce(rng: Rng, b: Buffer, opts: MutateOptions): Buffer {
  const n = b.length;
  const op = rng.int(14);
  if (n === 0 && op < 10) return Buffer.from([rng.pick(INTERESTING_8)]);
  switch (op) {
    case 0: { // bit flip
      const i = rng.int(n);
      b[i] = b[i]! ^ (1 << rng.int(8));
      return b;
    }
    case 1: // byte set to an interesting value
      b[rng.int(n)] = rng.pick(INTERESTING_8);
      return b;
    case 2: // random byte
      b[rng.int(n)] = rng.int(256);
      return b;
    case 3: { // small arithmetic on a byte (off-by-one lengths, counts)
      const i = rng.int(n);
      b[i] = (b[i]! + rng.range(-4, 4)) & 0xff;
      return b;
    }
    case 4: { // 16-bit field overwrite: interesting, the buffer length (±1), or random
      const v = rng.int(4) === 0 ? n + rng.range(-2, 2) : rng.chance(1, 4) ? rng.int(0x10000) : rng.pick(INTERESTING_16);
      writeField(b, rng.int(n), 2, v & 0xffff, rng.chance(1, 4));
      return b;
    }
    case 5: { // 32-bit field overwrite
      const v = rng.int(4) === 0 ? n + rng.range(-2, 2) : rng.chance(1, 4) ? rng.u32() : rng.pick(INTERESTING_32);
      writeField(b, rng.int(n), 4, v >>> 0, rng.chance(1, 4));
      return b;
    }
    case 6: // truncation
      return b.subarray(0, rng.int(n + 1));
    case 7: { // deletion of a range
      const a = rng.int(n);
      const len = 1 + rng.int(Math.min(n - a, rng.chance(1, 2) ? 4 : 64));
      return Buffer.concat([b.subarray(0, a), b.subarray(a + len)]);
    }
    case 8: { // duplication of a range at another position
      if (n + 1 > opts.maxLength) return b;
      const a = rng.int(n);
      const len = 1 + rng.int(Math.min(n - a, 256, opts.maxLength - n));
      const at = rng.int(n + 1);
      return Buffer.concat([b.subarray(0, at), b.subarray(a, a + len), b.subarray(at)]);
    }
    case 9: { // overwrite a range with a copy of another range (keeps the length)
      const a = rng.int(n);
      const c = rng.int(n);
      const len = 1 + rng.int(Math.min(n - a, n - c, 32));
      b.copy(b, c, a, a + len);
      return b;
    }
    case 10: { // extension: random tail or a repeat of the head
      if (n >= opts.maxLength) return b;
      const len = 1 + rng.int(Math.min(64, opts.maxLength - n));
      const tail = Buffer.allocUnsafe(len);
      if (rng.chance(1, 2)) for (let k = 0; k < len; k++) tail[k] = rng.int(256);
      else for (let k = 0; k < len; k++) tail[k] = n ? b[k % n]! : 0;
      return Buffer.concat([b, tail]);
    }
    case 11: { // splice: head of this one + tail of another seed
      const o = opts.other;
      if (!o || o.length === 0) return b.subarray(0, rng.int(n + 1));
      return Buffer.concat([b.subarray(0, rng.int(n + 1)), o.subarray(rng.int(o.length))]);
    }
    default: { // 12, 13: dictionary token inserted or overwritten
      const d = opts.dictionary;
      if (!d || d.length === 0) { b[rng.int(Math.max(n, 1))] = rng.pick(INTERESTING_8); return b; }
      const tok = rng.pick(d);
      const at = rng.int(n + 1);
      if (op === 12) return Buffer.concat([b.subarray(0, at), tok, b.subarray(at)]);
      const out = Buffer.concat([b.subarray(0, at), tok, b.subarray(Math.min(n, at + tok.length))]);
      return out;
    }
  }
}

/**
 * Text seeds go through the byte mutator as latin1 (one byte = one code unit, so every byte
 * value survives); one case in 8 is decoded as UTF-8 instead, which adds U+FFFD and
 * multi-unit characters.
 */
export function mutateText(rng: Rng, seed: string, opts: MutateOptions): string {
  const out = mutate(rng, Buffer.from(seed, 'latin1'), opts);
  return rng.chance(1, 8) ? out.toString('utf8') : out.toString('latin1');
}

/** Text dictionary helper. */
export function tokens(...items: string[]): Buffer[] {
  return items.map((s) => Buffer.from(s, 'latin1'));
}

/** Byte-stream framing for saved multi-input reproducers: [u32 BE length][bytes]… */
export function packRecords(records: readonly Buffer[]): Buffer {
  let total = 0;
  for (const r of records) total += 4 + r.length;
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (const r of records) {
    out.writeUInt32BE(r.length, o);
    r.copy(out, o + 4);
    o += 4 + r.length;
  }
  return out;
}

export function unpackRecords(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o + 4 <= buf.length) {
    const len = buf.readUInt32BE(o);
    out.push(buf.subarray(o + 4, Math.min(buf.length, o + 4 + len)));
    o += 4 + len;
  }
  return out;
}

/** True when `s` holds a C0 control character or DEL (optionally also space). */
export function hasControl(s: string, orSpace = false): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (orSpace && c === 0x20)) return true;
  }
  return false;
}
