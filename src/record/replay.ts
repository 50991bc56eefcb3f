/**
 * Plays a clip back at its recorded timing: reads the AVI chunk by chunk (one frame in memory
 * at a time) and hands each JPEG over when its slot's time has come, measured from the start
 * of the replay, so a viewer sees the clip as it was recorded. Empty slots pass as time.
 */
import { open } from 'node:fs/promises';
import { parseAviHeader, parseChunkHeader } from './avi-reader';

export interface ReplayResult {
  frames: number;
  /** ms of clip time played */
  durationMs: number;
  /** stopped before the end */
  aborted: boolean;
}

/** largest frame replayed; bigger chunks are skipped */
const MAX_FRAME = 32 * 1024 * 1024;

export async function replayClip(
  file: string,
  onFrame: (jpeg: Buffer, clipMs: number) => void,
  opts: { signal?: AbortSignal; speed?: number } = {},
): Promise<ReplayResult> {
  const speed = opts.speed && opts.speed > 0 ? opts.speed : 1;
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(Math.min(size, 65536));
    await fh.read(head, 0, head.length, 0);
    const info = parseAviHeader(head);
    const slotMs = info.usPerFrame / 1000;
    const started = performance.now();
    const hdr = Buffer.alloc(8);
    let p = info.firstChunk;
    let slot = 0;
    let frames = 0;
    while (p + 8 <= size) {
      if (opts.signal?.aborted) return { frames, durationMs: slot * slotMs, aborted: true };
      await fh.read(hdr, 0, 8, p);
      const c = parseChunkHeader(hdr, 0, info.videoStream);
      if (c.end || p + 8 + c.size > size) break;
      if (c.video) {
        if (c.size > 0 && c.size <= MAX_FRAME) {
          const jpeg = Buffer.alloc(c.size);
          await fh.read(jpeg, 0, c.size, p + 8);
          const due = started + (slot * slotMs) / speed;
          const wait = due - performance.now();
          if (wait > 1) await sleep(wait, opts.signal);
          if (opts.signal?.aborted) return { frames, durationMs: slot * slotMs, aborted: true };
          onFrame(jpeg, slot * slotMs);
          frames++;
        }
        slot++;
      }
      p += c.next;
    }
    return { frames, durationMs: slot * slotMs, aborted: false };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
