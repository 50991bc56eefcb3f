/** The options, per-part information and counters of the multipart MJPEG reader (multipart-reader.ts). */

export interface PartInfo {
  /** the part's X-Timestamp (ESP32, mjpg-streamer: `seconds.microseconds`) in ms, or null */
  timestampMs: number | null;
}

export interface MultipartReaderOptions {
  /** from the Content-Type (with or without leading dashes), or null to learn it from the body */
  boundary: string | null;
  /** larger parts are dropped and counted (default 16 MiB) */
  maxFrameBytes?: number;
  /** largest part header block (default 8 KiB); a larger one is garbage */
  maxHeaderBytes?: number;
  /** the caller rewrites a chunk once push() returned: whatever is kept is copied first */
  reusedChunks?: boolean;
  onFrame(jpeg: Buffer, part: PartInfo): void;
}

export interface MultipartStats {
  /** parts seen (a delimiter followed by headers) */
  parts: number;
  frames: number;
  /** parts over maxFrameBytes, dropped */
  oversized: number;
  /** picture parts that held no complete JPEG, dropped */
  corrupt: number;
  /** parts of another type (text, XML), skipped */
  ignored: number;
  /** parts whose Content-Length did not match the JPEG (the JPEG's own SOI … EOI was used) */
  lengthMismatches: number;
  /** a part cut short by the end of the body */
  truncated: number;
  /** bytes outside any part: preamble, garbage between parts, epilogue */
  garbageBytes: number;
  /** bytes of dropped or skipped parts */
  droppedBytes: number;
  /** the close delimiter arrived (the server ended the stream) */
  closed: boolean;
}
