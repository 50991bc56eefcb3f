/**
 * The framing of a `multipart/x-mixed-replace` response (RFC 2046 §5.1.1): a boundary per
 * response and the header of each part.
 *
 * A client finds the parts by searching for the delimiter line (CRLF "--" boundary), so a
 * frame whose bytes contain that line would cut the stream in two. §5.1.1 asks for a boundary
 * that cannot occur in the encapsulated data; with JPEG bytes that a camera or a flow controls,
 * only a random one is safe, and the same line inside a frame is still checked for. Every
 * boundary of one source shares a random prefix, so one search per frame (for the prefix)
 * clears the frame for every viewer; only a frame that holds the prefix, which takes someone
 * who has seen a boundary of this source, is searched again per viewer.
 */
import { randomBytes } from 'node:crypto';

/** Boundaries of one JPEG source: `<prefix><per-response part>`, 1..70 characters (§5.1.1). */
export class BoundaryFamily {
  private readonly prefix: string;
  /** "--" + prefix, what any delimiter of this family contains */
  private readonly needle: Buffer;

  constructor() {
    this.prefix = `mjpeg${randomBytes(8).toString('hex')}`;
    this.needle = Buffer.from(`--${this.prefix}`, 'latin1');
  }

  /** a fresh boundary for one response (37 characters) */
  next(): Boundary {
    return new Boundary(this.prefix + randomBytes(8).toString('hex'));
  }

  /** false when `frame` cannot contain the delimiter of any boundary of this family */
  mayCollide(frame: Buffer): boolean {
    return frame.indexOf(this.needle) >= 0;
  }
}

export class Boundary {
  private readonly delimiter: Buffer;
  constructor(readonly value: string) {
    this.delimiter = Buffer.from(`--${value}`, 'latin1');
  }

  get contentType(): string {
    return `multipart/x-mixed-replace; boundary=${this.value}`;
  }

  /** true when `frame` holds this boundary's delimiter and would break the framing */
  collides(frame: Buffer): boolean {
    return frame.indexOf(this.delimiter) >= 0;
  }

  /** The delimiter line and the part's headers. `X-Timestamp` is the frame's capture time in
   * seconds since the epoch with milliseconds, so a client can tell how old a part is. */
  partHead(length: number, capturedAtMs: number): string {
    return `--${this.value}\r\nContent-Type: image/jpeg\r\nContent-Length: ${length}\r\nX-Timestamp: ${(capturedAtMs / 1000).toFixed(3)}\r\n\r\n`;
  }
}
