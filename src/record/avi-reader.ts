/**
 * Reading Motion-JPEG AVI files (ours, and other writers' AVI 1.0 files with one video
 * stream), the bytes only: the header tells the frame size and slot length, then the 'movi'
 * chunks follow one after another. The reader trusts no size it cannot check against the data:
 * a file cut off by a crash ends at its last whole chunk.
 */

export interface AviInfo {
  width: number;
  height: number;
  /** µs per slot (dwScale/dwRate of the video stream, else avih) */
  usPerFrame: number;
  /** slots the header claims (may be short of the truth in a file cut off) */
  declaredFrames: number;
  /** position of the first chunk in 'movi' */
  firstChunk: number;
  /** stream number of the video stream, as in its chunk ids ('00dc' → 0) */
  videoStream: number;
}

export class AviError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AviError';
  }
}

const id = (b: Uint8Array, at: number): string => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
const u32 = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/**
 * Parses the header part of an AVI file. `head` is the file's first bytes (64 KiB cover any
 * header this module writes and those of common writers); throws AviError if it is not a
 * readable AVI or the 'movi' list is not within `head`.
 */
export function parseAviHeader(head: Uint8Array): AviInfo {
  if (head.length < 12 || id(head, 0) !== 'RIFF' || id(head, 8) !== 'AVI ') throw new AviError('not an AVI file');
  const info: AviInfo = { width: 0, height: 0, usPerFrame: 0, declaredFrames: 0, firstChunk: -1, videoStream: -1 };
  let stream = -1;
  let streamType = '';
  const walk = (start: number, end: number, depth: number): void => {
    let p = start;
    while (p + 8 <= end && info.firstChunk < 0) {
      const cid = id(head, p);
      const size = u32(head, p + 4);
      const body = p + 8;
      if (cid === 'LIST') {
        if (body + 4 > head.length) throw new AviError('AVI header runs past the data');
        const kind = id(head, body);
        if (kind === 'movi') {
          info.firstChunk = body + 4;
          return;
        }
        if (depth < 4) walk(body + 4, Math.min(end, body + size), depth + 1);
      } else if (cid === 'avih' && body + 40 <= head.length) {
        info.usPerFrame = u32(head, body);
        info.declaredFrames = u32(head, body + 16);
        info.width = u32(head, body + 32);
        info.height = u32(head, body + 36);
      } else if (cid === 'strh' && body + 36 <= head.length) {
        stream++;
        streamType = id(head, body);
        if (streamType === 'vids' && info.videoStream < 0) {
          info.videoStream = stream;
          const scale = u32(head, body + 20);
          const rate = u32(head, body + 24);
          if (scale > 0 && rate > 0) info.usPerFrame = (scale * 1e6) / rate;
          info.declaredFrames = u32(head, body + 32);
        }
      } else if (cid === 'strf' && streamType === 'vids' && stream === info.videoStream && body + 12 <= head.length) {
        info.width = u32(head, body + 4) | 0;
        info.height = Math.abs(u32(head, body + 8) | 0);
      }
      p = body + size + (size & 1);
    }
  };
  walk(12, head.length, 0);
  if (info.firstChunk < 0) throw new AviError('no movi list in the AVI header');
  if (info.videoStream < 0) info.videoStream = 0;
  if (!(info.usPerFrame > 0)) throw new AviError('AVI header has no frame rate');
  return info;
}

export interface ChunkHeader {
  /** the chunk is a frame of the video stream ('NNdc' or 'NNdb'); size 0 = an empty slot */
  video: boolean;
  /** a chunk that ends the movi data ('idx1', or a header that is not a chunk id) */
  end: boolean;
  size: number;
  /** bytes to the next chunk header */
  next: number;
}

/** Reads a chunk header (8 bytes) in 'movi'. */
export function parseChunkHeader(b: Uint8Array, at: number, videoStream: number): ChunkHeader {
  const cid = id(b, at);
  const size = u32(b, at + 4);
  const stream = `${Math.floor(videoStream / 10) % 10}${videoStream % 10}`;
  const video = cid === `${stream}dc` || cid === `${stream}db`;
  // 'LIST' 'rec ' groups chunks in interleaved files: step into it
  if (cid === 'LIST') return { video: false, end: false, size: 0, next: 12 };
  const known = video || /^[0-9]{2}(wb|dc|db|pc|tx)$/.test(cid) || cid === 'JUNK';
  return { video, end: !known, size, next: 8 + size + (size & 1) };
}

export interface AviFrame {
  /** slot number (time = slot × usPerFrame) */
  slot: number;
  jpeg: Buffer;
}

/** All frames of an AVI held in memory (tests, small files); stops at the last whole chunk. */
export function readAviFrames(file: Buffer): { info: AviInfo; frames: AviFrame[]; slots: number } {
  const info = parseAviHeader(file.subarray(0, Math.min(file.length, 65536)));
  const frames: AviFrame[] = [];
  let p = info.firstChunk;
  let slot = 0;
  while (p + 8 <= file.length) {
    const c = parseChunkHeader(file, p, info.videoStream);
    if (c.end || p + 8 + c.size > file.length) break;
    if (c.video) {
      if (c.size > 0) frames.push({ slot, jpeg: file.subarray(p + 8, p + 8 + c.size) });
      slot++;
    }
    p += c.next;
  }
  return { info, frames, slots: slot };
}
