/**
 * Motion-JPEG AVI, the bytes (no I/O): the AVI 1.0 RIFF layout (Microsoft "AVI RIFF File
 * Reference": RIFF 'AVI ' → LIST 'hdrl' (avih, LIST 'strl' (strh, strf)) → LIST 'movi' (one
 * '00dc' chunk per frame) → idx1), one video stream of fourcc MJPG holding each JPEG as it came.
 *
 * Written so that a file cut off at any moment plays up to its last whole frame: the header is
 * a fixed-size block that the writer rewrites after every frame with the sizes and counts of
 * the frames written so far (RIFF and movi sizes, frame counts), so the file is a complete,
 * well-formed AVI without an index after each frame; idx1 is appended once, at close.
 *
 * Frame timing: AVI streams have a constant rate, so frames sit on a grid of `usPerFrame`
 * slots and a slot without a frame is an empty '00dc' chunk (a "drop frame" chunk, as FFmpeg's
 * own AVI muxer writes for gaps): players hold the previous picture, nothing is duplicated.
 */

/** bytes before the first chunk in 'movi': the whole rewritable header block */
export const HEADER_BYTES = 512;
/** offset of the 'movi' fourcc; idx1 offsets count from here (AVI RIFF reference, idx1) */
export const MOVI_FOURCC_AT = HEADER_BYTES - 4;
/** AVI 1.0 players index at most 1 GiB reliably (beyond that OpenDML is needed) */
export const MAX_AVI_BYTES = 1024 * 1024 * 1024;

const AVIF_HASINDEX = 0x10;
const AVIIF_KEYFRAME = 0x10;

export interface AviHeader {
  width: number;
  height: number;
  /** the slot length, µs */
  usPerFrame: number;
  /** slots written (frames and empty chunks) */
  slots: number;
  /** bytes of the chunks in 'movi' (headers and padding included) */
  moviBytes: number;
  /** largest chunk, for dwSuggestedBufferSize */
  maxChunk: number;
  /** bytes after 'movi' (idx1 once written) */
  trailerBytes: number;
  /** idx1 is present */
  indexed: boolean;
}

function fourcc(b: Buffer, at: number, s: string): void {
  b.write(s, at, 4, 'latin1');
}

/**
 * The stream's rate as dwRate/dwScale: a whole number of frames per second when the slot is
 * within 0.1 % of one (what players show as "15 fps"), else microseconds.
 */
export function rateOf(usPerFrame: number): { rate: number; scale: number } {
  const fps = 1e6 / usPerFrame;
  const whole = Math.round(fps);
  if (whole >= 1 && Math.abs(fps - whole) / fps < 0.001) return { rate: whole, scale: 1 };
  return { rate: 1_000_000, scale: Math.max(1, Math.round(usPerFrame)) };
}

/** The HEADER_BYTES header block, 'LIST' 'movi' header last. */
export function aviHeader(h: AviHeader): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  const fileBytes = HEADER_BYTES + h.moviBytes + h.trailerBytes;
  const { rate, scale } = rateOf(h.usPerFrame);
  const frames = Math.min(h.slots, 0xffffffff);
  fourcc(b, 0, 'RIFF');
  b.writeUInt32LE(fileBytes - 8, 4);
  fourcc(b, 8, 'AVI ');
  fourcc(b, 12, 'LIST');
  b.writeUInt32LE(192, 16);
  fourcc(b, 20, 'hdrl');
  // avih: MainAVIHeader
  fourcc(b, 24, 'avih');
  b.writeUInt32LE(56, 28);
  b.writeUInt32LE(Math.round(h.usPerFrame), 32);
  b.writeUInt32LE(Math.min(0xffffffff, Math.round((h.maxChunk * 1e6) / h.usPerFrame)), 36); // dwMaxBytesPerSec
  b.writeUInt32LE(0, 40); // dwPaddingGranularity
  b.writeUInt32LE(h.indexed ? AVIF_HASINDEX : 0, 44);
  b.writeUInt32LE(frames, 48); // dwTotalFrames
  b.writeUInt32LE(0, 52); // dwInitialFrames
  b.writeUInt32LE(1, 56); // dwStreams
  b.writeUInt32LE(h.maxChunk, 60); // dwSuggestedBufferSize
  b.writeUInt32LE(h.width, 64);
  b.writeUInt32LE(h.height, 68);
  // LIST strl
  fourcc(b, 88, 'LIST');
  b.writeUInt32LE(116, 92);
  fourcc(b, 96, 'strl');
  // strh: AVIStreamHeader
  fourcc(b, 100, 'strh');
  b.writeUInt32LE(56, 104);
  fourcc(b, 108, 'vids');
  fourcc(b, 112, 'MJPG');
  b.writeUInt32LE(0, 116); // dwFlags
  b.writeUInt16LE(0, 120); // wPriority
  b.writeUInt16LE(0, 122); // wLanguage
  b.writeUInt32LE(0, 124); // dwInitialFrames
  b.writeUInt32LE(scale, 128);
  b.writeUInt32LE(rate, 132);
  b.writeUInt32LE(0, 136); // dwStart
  b.writeUInt32LE(frames, 140); // dwLength
  b.writeUInt32LE(h.maxChunk, 144);
  b.writeInt32LE(-1, 148); // dwQuality: default
  b.writeUInt32LE(0, 152); // dwSampleSize: varies per frame
  b.writeInt16LE(0, 156); // rcFrame
  b.writeInt16LE(0, 158);
  b.writeInt16LE(Math.min(0x7fff, h.width), 160);
  b.writeInt16LE(Math.min(0x7fff, h.height), 162);
  // strf: BITMAPINFOHEADER
  fourcc(b, 164, 'strf');
  b.writeUInt32LE(40, 168);
  b.writeUInt32LE(40, 172);
  b.writeInt32LE(h.width, 176);
  b.writeInt32LE(h.height, 180);
  b.writeUInt16LE(1, 184); // biPlanes
  b.writeUInt16LE(24, 186); // biBitCount
  fourcc(b, 188, 'MJPG');
  b.writeUInt32LE(h.width * h.height * 3, 192); // biSizeImage
  // 196..211: pels per metre, colours used/important: 0
  // LIST INFO: which software wrote it
  const isft = 'node-red-contrib-rtsp-mjpeg\0';
  fourcc(b, 212, 'LIST');
  b.writeUInt32LE(4 + 8 + isft.length, 216);
  fourcc(b, 220, 'INFO');
  fourcc(b, 224, 'ISFT');
  b.writeUInt32LE(isft.length, 228);
  b.write(isft, 232, 'latin1');
  const junkAt = 232 + isft.length;
  // JUNK up to the movi list, so the first chunk starts at HEADER_BYTES
  fourcc(b, junkAt, 'JUNK');
  b.writeUInt32LE(MOVI_FOURCC_AT - 8 - (junkAt + 8), junkAt + 4);
  fourcc(b, MOVI_FOURCC_AT - 8, 'LIST');
  b.writeUInt32LE(4 + h.moviBytes, MOVI_FOURCC_AT - 4);
  fourcc(b, MOVI_FOURCC_AT, 'movi');
  return b;
}

/** Header of a '00dc' chunk holding `size` bytes; `pad` is 1 for an odd size (RIFF word alignment). */
export function chunkHeader(size: number): { header: Buffer; pad: number } {
  const header = Buffer.alloc(8);
  fourcc(header, 0, '00dc');
  header.writeUInt32LE(size, 4);
  return { header, pad: size & 1 };
}

/** A chunk's whole length in 'movi' */
export const chunkBytes = (size: number): number => 8 + size + (size & 1);

export interface IndexEntry {
  /** chunk header position, relative to the 'movi' fourcc */
  offset: number;
  size: number;
}

/** idx1: one entry per chunk; JPEG frames are key frames, empty slots are not. */
export function idx1(entries: readonly IndexEntry[]): Buffer {
  const b = Buffer.alloc(8 + 16 * entries.length);
  fourcc(b, 0, 'idx1');
  b.writeUInt32LE(16 * entries.length, 4);
  let o = 8;
  for (const e of entries) {
    fourcc(b, o, '00dc');
    b.writeUInt32LE(e.size > 0 ? AVIIF_KEYFRAME : 0, o + 4);
    b.writeUInt32LE(e.offset, o + 8);
    b.writeUInt32LE(e.size, o + 12);
    o += 16;
  }
  return b;
}
