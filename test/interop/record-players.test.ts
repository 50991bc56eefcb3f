/**
 * The clips in real players. FFmpeg: ffprobe says Motion-JPEG, the frame count and the
 * duration match what was recorded (a gap in the stream kept as time, not squeezed), and
 * FFmpeg decodes every frame without one error, also from a copy taken mid-clip with a torn
 * frame after it. `kill -9` of a Node-RED runtime in the middle of a clip leaves a file
 * FFmpeg decodes without error up to its last whole frame, no frame twice. VLC opens the
 * clips (its AVI demuxer finds the index; the cut clip plays without one).
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnlessPeer, waitForLine } from '../support/peers';
import { ClipWriter } from '../../src/record/clip-writer';
import { readAviFrames } from '../../src/record/avi-reader';
import { startDemoCamera } from '../../src/sim/demo-camera';
import { SceneFrames } from '../support/scene-frames';

const dir = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-players-'));
chmodSync(dir, 0o755);
after(() => rmSync(dir, { recursive: true, force: true }));

interface Probe { codec: string; width: number; height: number; frames: number; duration: number }
function ffprobe(file: string): Probe {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames:format=duration', '-of', 'json', file], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[]; format: { duration: string } };
  const s = j.streams[0]!;
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames), duration: Number(j.format.duration) };
}
/** FFmpeg's decoder over the whole file: its complaints (empty = clean) */
function ffmpegErrors(file: string): string {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8', timeout: 60_000 });
  return `${r.status === 0 ? '' : `exit ${r.status}\n`}${r.stderr.trim()}`;
}

/** a clip of the scene at 15 fps with a gap of 1 s in the middle; returns what was written */
async function sceneClip(file: string): Promise<{ frames: number; start: number; end: number; writer: ClipWriter; src: SceneFrames }> {
  const src = new SceneFrames(320, 240);
  const w = await ClipWriter.create(file, { width: 320, height: 240, slotMs: 1000 / 15, t0: 0 });
  let frames = 0;
  let end = 0;
  for (let i = 0; i < 90; i++) {
    if (i >= 40 && i < 55) continue; // the camera stalled for a second
    const t = (i * 1000) / 15 + (i % 4); // and its frames jitter by a few ms
    w.add(src.at(8000 + t), t);
    frames++;
    end = t;
  }
  return { frames, start: 0, end, writer: w, src };
}

describe('clips in FFmpeg and VLC', () => {
  test('ffprobe: mjpeg, the frames written, the real duration; FFmpeg decodes it without an error', async (t) => {
    if (!skipUnlessPeer(t, 'ffmpeg')) return;
    const file = join(dir, 'clip-20260101-000000.avi');
    const c = await sceneClip(file);
    const s = await c.writer.close();
    const p = ffprobe(file);
    t.diagnostic(`ffprobe: ${JSON.stringify(p)}; written ${s.frames} frames over ${(s.end - s.start) / 1000} s`);
    assert.equal(p.codec, 'mjpeg');
    assert.deepEqual([p.width, p.height], [320, 240]);
    assert.ok(Math.abs(p.frames - s.frames) <= 1, `ffprobe counts ${p.frames}, ${s.frames} written`);
    // the stall is kept: 90 slots of 1/15 s, not 75
    assert.ok(Math.abs(p.duration - 6) <= 1 / 15 + 0.01, `duration ${p.duration}`);
    assert.equal(ffmpegErrors(file), '');
  });

  test('a copy taken mid-clip, with half a frame after it, decodes cleanly up to its last whole frame', async (t) => {
    if (!skipUnlessPeer(t, 'ffmpeg')) return;
    const file = join(dir, 'clip-20260101-000001.avi');
    const c = await sceneClip(file);
    await c.writer.flush();
    const cut = join(dir, 'clip-20260101-000002.avi');
    copyFileSync(file, cut);
    const torn = c.src.at(20_000);
    const h = Buffer.alloc(8);
    h.write('00dc', 0, 'latin1');
    h.writeUInt32LE(torn.length, 4);
    appendFileSync(cut, Buffer.concat([h, torn.subarray(0, torn.length >> 1)]));
    await c.writer.close();
    const p = ffprobe(cut);
    assert.ok(Math.abs(p.frames - c.frames) <= 1, `${p.frames} of ${c.frames}`);
    assert.equal(ffmpegErrors(cut), '');
  });

  test('kill -9 of Node-RED in the middle of a clip: FFmpeg decodes the file without an error, every frame once', async (t) => {
    if (!skipUnlessPeer(t, 'ffmpeg')) return;
    const cam = await startDemoCamera({ port: 0, width: 320, height: 240, fps: 15 });
    const userDir = join(dir, 'nr');
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'record-crash-child.ts'), userDir, cam.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let killed = false;
    t.after(async () => {
      if (!killed) child.kill('SIGKILL');
      await cam.close();
    });
    await waitForLine(child, /READY/, 60_000, 'Node-RED in the child');
    const clips = join(userDir, 'clips');
    const framesNow = (): number => {
      try {
        const f = readdirSync(clips).filter((x) => x.endsWith('.avi'));
        return f.length === 1 ? readAviFrames(readFileSync(join(clips, f[0]!))).frames.length : 0;
      } catch {
        return 0;
      }
    };
    const deadline = Date.now() + 30_000;
    while (framesNow() < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(framesNow() >= 40, 'the clip grows');
    child.kill('SIGKILL');
    killed = true;
    await new Promise((r) => child.once('exit', r));
    const file = join(clips, readdirSync(clips)[0]!);
    const b = readFileSync(file);
    assert.equal(b.readUInt32LE(44) & 0x10, 0, 'cut off before its index: the crash was mid-clip');
    const ours = readAviFrames(b).frames;
    const p = ffprobe(file);
    t.diagnostic(`killed mid-clip: ${b.length} bytes, ${ours.length} whole frames, ffprobe ${JSON.stringify(p)}`);
    assert.equal(p.codec, 'mjpeg');
    assert.ok(Math.abs(p.frames - ours.length) <= 1, `ffprobe ${p.frames}, reader ${ours.length}`);
    assert.equal(ffmpegErrors(file), '');
    const hashes = new Set(ours.map((f) => createHash('sha1').update(f.jpeg).digest('hex')));
    assert.equal(hashes.size, ours.length, 'no frame twice');
  });

  test('VLC opens a closed clip by its index and plays a cut one without', async (t) => {
    if (!skipUnlessPeer(t, 'vlc')) return;
    const file = join(dir, 'clip-20260101-000003.avi');
    const c = await sceneClip(file);
    await c.writer.flush();
    const cut = join(dir, 'clip-20260101-000004.avi');
    copyFileSync(file, cut);
    await c.writer.close();
    const ids = process.getuid?.() === 0 ? { uid: Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim() || 65534), gid: Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim() || 65534) } : {};
    for (const [f, indexed] of [[file, true], [cut, false]] as const) {
      chmodSync(f, 0o644);
      const r = spawnSync('cvlc', ['--play-and-exit', '--no-audio', '-V', 'dummy', '--intf', 'dummy', '-vv', f], { encoding: 'utf8', timeout: 60_000, ...ids, env: { ...process.env, HOME: tmpdir() } });
      const log = `${r.stdout}${r.stderr}`;
      assert.equal(r.status, 0, log.slice(-2000));
      assert.match(log, /video\(MJPG\) 320x240 24bpp 15\.0+fps/);
      assert.match(log, /codec \(mjpeg\) started/);
      if (indexed) assert.match(log, /created 90 index entries/);
      else assert.match(log, /cannot find idx1 chunk/);
    }
  });
});
