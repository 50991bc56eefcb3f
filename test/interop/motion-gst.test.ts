/**
 * Motion detection on scenes nobody here scripted: GStreamer's videotestsrc `pattern=ball`
 * (a ball that moves all the time) and `pattern=snow` (every pixel random in every frame),
 * encoded by jpegenc and muxed by GStreamer's avimux; the file is read by our AVI reader
 * (so GStreamer's AVI layout is read too) and analysed at 5 frames a second, as the node
 * does. The ball is motion in ≥ 95 % of the analysed frames (after learning), the snow is
 * never motion.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnlessPeer } from '../support/peers';
import { readAviFrames } from '../../src/record/avi-reader';
import { readDcMap } from '../../src/jpeg/dc-reader';
import { MotionDetector } from '../../src/motion/detector';
import { EventTracker } from '../../src/motion/events';
import { RateGate } from '../../src/camera/rate-gate';

const dir = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-gst-motion-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** videotestsrc → jpegenc → avimux, `seconds` at 25 fps, 320×240 */
function gstClip(pattern: string, seconds: number): string {
  const file = join(dir, `${pattern}.avi`);
  const r = spawnSync('gst-launch-1.0', ['-q', 'videotestsrc', `pattern=${pattern}`, `num-buffers=${seconds * 25}`, '!',
    'video/x-raw,width=320,height=240,framerate=25/1', '!', 'jpegenc', 'quality=85', '!', 'avimux', '!', 'filesink', `location=${file}`],
  { timeout: 120_000, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

function analyse(file: string): { frames: number; analysed: number; flagged: number; events: number; maxArea: number } {
  const r = readAviFrames(readFileSync(file));
  const det = new MotionDetector();
  const ev = new EventTracker(5000);
  const gate = new RateGate(5);
  const out = { frames: r.frames.length, analysed: 0, flagged: 0, events: 0, maxArea: 0 };
  for (const f of r.frames) {
    const t = (f.slot * r.info.usPerFrame) / 1000;
    if (!gate.admit(t)) continue;
    const m = det.analyse(readDcMap(f.jpeg), t);
    if (m.learning) continue;
    out.analysed++;
    if (m.motion) out.flagged++;
    out.maxArea = Math.max(out.maxArea, m.area);
    if (ev.frame(m, t)?.kind === 'start') out.events++;
  }
  return out;
}

describe('motion detection on GStreamer videotestsrc clips', () => {
  test('pattern=ball, 30 s: motion in ≥ 95 % of the analysed frames, one event', (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server')) return;
    const r = analyse(gstClip('ball', 30));
    t.diagnostic(`ball: ${r.frames} frames read from GStreamer's AVI, ${r.analysed} analysed after learning, ${r.flagged} with motion (${((100 * r.flagged) / r.analysed).toFixed(1)} %), ${r.events} event(s)`);
    assert.equal(r.frames, 750);
    assert.ok(r.analysed >= 140);
    assert.ok(r.flagged / r.analysed >= 0.95, `${r.flagged}/${r.analysed}`);
    assert.equal(r.events, 1);
  });

  test('pattern=snow, 60 s: never motion', (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server')) return;
    const r = analyse(gstClip('snow', 60));
    t.diagnostic(`snow: ${r.analysed} frames analysed, ${r.flagged} with motion, largest changed area ${r.maxArea}`);
    assert.ok(r.analysed >= 290);
    assert.equal(r.flagged, 0);
    assert.equal(r.events, 0);
  });
});
