/**
 * Finding multipart delimiters (RFC 2046 §5.1.1: CRLF "--" boundary) in a stream of reads:
 * recognising a delimiter line while the boundary is still to be learned, and a native
 * search that also finds a delimiter split across two reads, with a look-behind of fewer
 * bytes than the delimiter. Pure.
 */

/**
 * Whether the text of one line (trimmed) is a delimiter: dashes, a token that does not start
 * with one (the expected boundary in any letter case, or any 1–100 printable characters when
 * none is expected), and `--` after it for the close delimiter. Returns the delimiter as the
 * server wrote it (its dashes and token) or null.
 */
export function delimiterLine(text: string, expected: string | null): { delimiter: string; close: boolean } | null {
  const m = /^(-{2,})([\x21-\x2c\x2e-\x7e][\x21-\x7e]{0,199}?)(--)?$/.exec(text);
  if (!m) return null;
  const token = m[2]!;
  const ok = expected === null ? token.length <= 100 : token.toLowerCase() === expected.toLowerCase();
  return ok ? { delimiter: `${m[1]}${token}`, close: m[3] !== undefined } : null;
}

/** While learning the boundary, only this much of each line is kept. */
const LEARN_LINE = 256;

/** Lines before the first delimiter, each checked by delimiterLine(); only their first bytes are kept. */
export class DelimiterLearner {
  private readonly line = Buffer.alloc(LEARN_LINE);
  private len = 0;
  private overflow = false;

  constructor(private readonly expected: string | null) {}

  /** Reads `b` from `pos` to the end of the line (or of `b`): where to go on, and the delimiter when the line was one. */
  push(b: Buffer, pos: number): { next: number; found: { delimiter: string; close: boolean } | null } {
    const lf = b.indexOf(0x0a, pos);
    const end = lf < 0 ? b.length : lf;
    const n = Math.min(LEARN_LINE - this.len, end - pos);
    if (n > 0) {
      b.copy(this.line, this.len, pos, pos + n);
      this.len += n;
    }
    if (end - pos > n) this.overflow = true;
    if (lf < 0) return { next: b.length, found: null };
    const text = this.overflow ? '' : this.line.toString('latin1', 0, this.len).trim();
    this.len = 0;
    this.overflow = false;
    return { next: lf + 1, found: delimiterLine(text, this.expected) };
  }
}

/** A search for one pattern across reads: the last bytes of what was searched are kept (copied). */
export class SplitSearch {
  private tail: Buffer = Buffer.alloc(0);

  /** Forget the look-behind (the next read does not continue the searched bytes). */
  reset(tail: Buffer = Buffer.alloc(0)): void {
    this.tail = tail;
  }

  /**
   * Where `pat` starts, as [index in b, pattern bytes that were already in the look-behind]:
   * index -1 when not in this read (the look-behind then ends at b's end).
   */
  find(pat: Buffer, b: Buffer, pos: number): [number, number] {
    if (this.tail.length > 0) {
      const j = Buffer.concat([this.tail, b.subarray(pos, pos + pat.length - 1)]);
      const k = j.indexOf(pat);
      if (k >= 0 && k < this.tail.length) return [pos, this.tail.length - k];
    }
    const k = b.indexOf(pat, pos);
    if (k >= 0) return [k, 0];
    const keep = pat.length - 1;
    const avail = b.length - pos;
    this.tail = avail >= keep ? Buffer.from(b.subarray(b.length - keep)) : Buffer.concat([this.tail, b.subarray(pos)]).subarray(-keep);
    return [-1, 0];
  }
}
