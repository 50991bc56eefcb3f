/**
 * Retention of a clip folder: clips older than `maxAgeDays` are deleted, then the oldest
 * clips until the folder's clips take at most `maxSizeMB`. Only files named like this
 * module's clips are ever touched; the clip being written is never deleted (but counts).
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** clip-YYYYMMDD-HHMMSS[-N].avi */
export const CLIP_NAME = /^clip-\d{8}-\d{6}(-\d+)?\.avi$/;

export interface ClipFile {
  name: string;
  path: string;
  bytes: number;
  /** ms, last modification (the clip's end) */
  mtime: number;
}

/** The clips in `folder`, oldest first (a folder that does not exist holds none). */
export async function listClips(folder: string): Promise<ClipFile[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: ClipFile[] = [];
  for (const name of names) {
    if (!CLIP_NAME.test(name)) continue;
    const path = join(folder, name);
    try {
      const s = await stat(path);
      if (s.isFile()) out.push({ name, path, bytes: s.size, mtime: s.mtimeMs });
    } catch { /* deleted meanwhile */ }
  }
  return out.sort((a, b) => a.mtime - b.mtime || (a.name < b.name ? -1 : 1));
}

export interface RetentionResult {
  deleted: string[];
  /** bytes of the clips left */
  bytes: number;
}

export async function applyRetention(
  folder: string,
  o: { maxAgeDays: number; maxSizeMB: number; keep?: ReadonlySet<string>; now?: number },
): Promise<RetentionResult> {
  const now = o.now ?? Date.now();
  const clips = await listClips(folder);
  const deleted: string[] = [];
  const remove = async (c: ClipFile): Promise<boolean> => {
    if (o.keep?.has(c.path)) return false;
    try {
      await unlink(c.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    deleted.push(c.path);
    return true;
  };
  let left: ClipFile[] = [];
  for (const c of clips) {
    if (o.maxAgeDays > 0 && now - c.mtime > o.maxAgeDays * 86_400_000 && (await remove(c))) continue;
    left.push(c);
  }
  let bytes = left.reduce((s, c) => s + c.bytes, 0);
  if (o.maxSizeMB > 0) {
    const limit = o.maxSizeMB * 1024 * 1024;
    const kept: ClipFile[] = [];
    for (const c of left) {
      if (bytes > limit && (await remove(c))) bytes -= c.bytes;
      else kept.push(c);
    }
    left = kept;
  }
  return { deleted, bytes };
}
