/**
 * One camera through our library, and (with rate > 0) its frames analysed for motion as the
 * `mjpeg motion` node does: the rate gate, the DC reader, the detector and the event tracker.
 * Usage: node motion-reader.cjs <distDir> <url> <rate; 0 = receive only>
 * Runs from the compiled library. On SIGTERM prints one JSON line: frames received, frames
 * analysed, CPU ms spent inside the analysis (process.cpuUsage around it), events.
 */
import { join } from 'node:path';
import type { CameraSession, FrameInfo } from '../../src/index';

const [distDir, url, rateArg] = process.argv.slice(2) as [string, string, string];
/* eslint-disable @typescript-eslint/no-require-imports */
const lib = require(join(distDir, 'index.js')) as { openCamera: (u: string, o: object) => CameraSession };
const { readDcMap } = require(join(distDir, 'jpeg', 'dc-reader.js')) as typeof import('../../src/jpeg/dc-reader');
const { MotionDetector } = require(join(distDir, 'motion', 'detector.js')) as typeof import('../../src/motion/detector');
const { EventTracker } = require(join(distDir, 'motion', 'events.js')) as typeof import('../../src/motion/events');
const { RateGate } = require(join(distDir, 'camera', 'rate-gate.js')) as typeof import('../../src/camera/rate-gate');
/* eslint-enable @typescript-eslint/no-require-imports */

const rate = Number(rateArg);
const gate = new RateGate(rate);
const detector = new MotionDetector({ mask: [{ x: 0, y: 0.66, w: 1, h: 0.34 }] });
const events = new EventTracker(5000);
let frames = 0, analysed = 0, eventCount = 0, analysisUs = 0;
let means: Float32Array | undefined;
const s = lib.openCamera(url, { transport: 'tcp' });
s.on('frame', (jpeg: Buffer, info: FrameInfo) => {
  frames++;
  if (rate <= 0 || !gate.admit(info.receivedAt)) return;
  const c0 = process.cpuUsage();
  const map = readDcMap(jpeg, { reuse: means });
  means = map.means;
  const f = detector.analyse(map, info.receivedAt);
  if (events.frame(f, info.receivedAt)?.kind === 'start') eventCount++;
  const c = process.cpuUsage(c0);
  analysisUs += c.user + c.system;
  analysed++;
});
s.on('error', () => undefined);
process.on('SIGTERM', () => {
  process.stdout.write(JSON.stringify({ frames, analysed, analysisMs: analysisUs / 1000, events: eventCount }) + '\n');
  process.exit(0);
});
