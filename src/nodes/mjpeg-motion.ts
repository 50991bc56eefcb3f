/**
 * `mjpeg motion` (palette: rtsp camera motion): motion detection on the JPEG frames
 * themselves, without decoding them: the DC reader (../jpeg/dc-reader) gives each frame's
 * 8×8-block brightness map, the detector (../motion) compares it with a learnt background.
 * Frames come from an `rtsp-camera` directly or as JPEG messages on the input; at most
 * `rate` a second are analysed, the others skipped (never queued).
 *
 * Output 1: one message when motion starts and one when it ends (`gap` seconds of stillness
 * later). Output 2 (with `perFrame`): one message per analysed frame. Each carries
 * msg.payload = { motion, score, area, boxes } and msg.image, the frame's JPEG.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import type { Request, Response } from 'express';
import { readDcMap, JpegDcError, type DcMap } from '../jpeg/dc-reader';
import { MotionDetector, type MotionFrame } from '../motion/detector';
import { EventTracker, type MotionEvent } from '../motion/events';
import { normalizeRects } from '../motion/mask';
import { RateGate } from '../camera/rate-gate';
import type { CameraUser, RtspCameraNode, SharedFrame } from './lib/camera-contract';
import { cameraUser, findOptionalCamera, isJpeg } from './lib/camera-user';
import { flagField, numberField } from './lib/fields';

interface MotionDef extends NodeDef {
  camera?: string | undefined;
  rate?: number | string | undefined;
  threshold?: number | string | undefined;
  minArea?: number | string | undefined;
  mask?: unknown;
  gap?: number | string | undefined;
  perFrame?: boolean | string | undefined;
}

interface MotionNode extends Node {
  /** frames analysed, skipped by the rate, and unreadable */
  counts: { analysed: number; skipped: number; unreadable: number };
  /** the latest frame seen (the editor draws the mask on it) */
  latestJpeg: Buffer | null;
}

const DEFAULTS = { rate: 5, threshold: 12, minArea: 0.005, gap: 5 };

/** msg.payload of every output: the contract's four fields */
const payloadOf = (f: MotionFrame): { motion: boolean; score: number; area: number; boxes: MotionFrame['boxes'] } =>
  ({ motion: f.motion, score: f.score, area: f.area, boxes: f.boxes });

function eventOf(e: MotionEvent, end: number | null): Record<string, unknown> {
  return { id: e.id, start: e.start, end, duration: end === null ? null : end - e.start, frames: e.frames, peakArea: e.peakArea, peakScore: e.peakScore };
}

export = function (RED: NodeAPI): void {
  const nodes = new Map<string, MotionNode>();

  // The editor draws the mask on a frame: the latest one this node saw, else the camera's.
  RED.httpAdmin.get('/mjpeg-motion/snapshot/:id', RED.auth.needsPermission('mjpeg-motion.read'), (req: Request, res: Response) => {
    const id = String(req.params.id ?? '');
    let jpeg = nodes.get(id)?.latestJpeg ?? null;
    const cameraId = typeof req.query.camera === 'string' ? req.query.camera : '';
    if (!jpeg && cameraId) {
      const cam = RED.nodes.getNode(cameraId) as RtspCameraNode | null;
      if (cam && typeof cam.latestFrame === 'function') jpeg = cam.latestFrame()?.jpeg ?? null;
    }
    if (!jpeg) {
      res.status(404).type('text/plain').send('no frame yet: deploy the node and let its camera send a frame\n');
      return;
    }
    res.set('Cache-Control', 'no-store').type('image/jpeg').send(jpeg);
  });

  function MjpegMotion(this: MotionNode, def: MotionDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's constructor style: the node object is captured by the handlers below
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    node.counts = { analysed: 0, skipped: 0, unreadable: 0 };
    node.latestJpeg = null;
    const perFrame = flagField(def.perFrame, false);
    const mask = normalizeRects(def.mask);
    const detector = new MotionDetector({
      threshold: numberField(def.threshold, 1, 255, DEFAULTS.threshold),
      minArea: numberField(def.minArea, 0, 1, DEFAULTS.minArea),
      mask,
    });
    const gate = new RateGate(numberField(def.rate, 0, 100, DEFAULTS.rate));
    const events = new EventTracker(numberField(def.gap, 0, 3600, DEFAULTS.gap) * 1000);
    let camera: RtspCameraNode | null = null;
    let user: CameraUser | null = null;
    let cameraStatus: NodeStatus = {};
    let closed = false;
    let badInput = 0;
    let lastError = '';
    let map: DcMap | null = null;
    let endTimer: NodeJS.Timeout | null = null;
    let shown = '';
    let topic = '';
    /** wall clock minus the frames' clock at the last analysed frame (frames may bring their own times) */
    let skew = 0;
    const frameNow = (): number => Date.now() - skew;

    const show = (s: NodeStatus): void => {
      const key = JSON.stringify(s);
      if (closed || key === shown) return;
      shown = key;
      node.status(s);
    };
    const showFrame = (f: MotionFrame | null): void => {
      if (cameraStatus.fill === 'red' || cameraStatus.fill === 'yellow') return show(cameraStatus);
      if (lastError) return show({ fill: 'red', shape: 'ring', text: lastError });
      if (!f) return show({ fill: 'grey', shape: 'ring', text: 'waiting for frames' });
      if (f.learning) return show({ fill: 'yellow', shape: 'ring', text: 'learning the background' });
      const active = events.active;
      if (!active) return show({ fill: 'green', shape: 'ring', text: 'still' });
      const boxes = f.boxes.length;
      show({ fill: 'red', shape: 'dot', text: `motion · ${Math.round(f.area * 100)} % · ${boxes} box${boxes === 1 ? '' : 'es'}` });
    };

    const send = (kind: 'start' | 'end', e: MotionEvent, f: MotionFrame, jpeg: Buffer | null, at: number): void => {
      const msg: NodeMessage & Record<string, unknown> = {
        topic,
        // the end comes with a still frame: what little changed in it (below minArea)
        payload: payloadOf(f),
        image: jpeg,
        event: eventOf(e, kind === 'end' ? at : null),
      };
      node.send(perFrame ? [msg, null] : msg);
    };

    /** ends the event when frames stop coming for `gap` seconds */
    const armEndTimer = (): void => {
      if (endTimer) clearTimeout(endTimer);
      endTimer = null;
      const left = events.msUntilEnd(frameNow());
      if (left === null) return;
      endTimer = setTimeout(() => {
        endTimer = null;
        const now = frameNow();
        const change = events.tick(now);
        if (change?.kind === 'end') {
          send('end', change.event, { motion: false, score: 0, area: 0, boxes: [], globalChange: false, learning: false }, node.latestJpeg, now);
          showFrame({ motion: false, score: 0, area: 0, boxes: [], globalChange: false, learning: false });
        } else armEndTimer();
      }, left + 100);
    };

    const reportBad = (text: string, status: string): void => {
      node.counts.unreadable++;
      if (status !== lastError) {
        lastError = status;
        node.error(text, { topic, payload: null });
        showFrame(null);
      }
    };

    /** one frame in; `take` gives its bytes (only analysed frames are taken) */
    const frameIn = (take: () => Buffer, t: number): void => {
      if (closed) return;
      if (!gate.admit(t)) {
        node.counts.skipped++;
        return;
      }
      const jpeg = take();
      node.latestJpeg = jpeg;
      let f: MotionFrame;
      try {
        map = readDcMap(jpeg, { reuse: map?.means });
        f = detector.analyse(map, t);
      } catch (e) {
        // one error per kind of problem, not one per frame; never an exception out of a
        // camera's frame event
        if (e instanceof JpegDcError) {
          const why = e.code === 'progressive' || e.code === 'arithmetic' || e.code === 'lossless' ? `${e.code} JPEG not supported` : `unreadable JPEG (${e.code})`;
          reportBad(`${why}: ${e.message}`, why);
        } else {
          reportBad(`motion analysis failed: ${e instanceof Error ? e.message : String(e)}`, 'analysis failed');
        }
        return;
      }
      lastError = '';
      skew = Date.now() - t;
      node.counts.analysed++;
      const change = events.frame(f, t);
      if (change) send(change.kind, change.event, f, jpeg, t);
      if (perFrame) node.send([null, { topic, payload: payloadOf(f), image: jpeg, event: events.active ? eventOf(events.active, null) : null } as NodeMessage]);
      armEndTimer();
      showFrame(f);
    };

    const chosen = findOptionalCamera(RED, node, def.camera);
    if (chosen === undefined) return;
    if (chosen) {
      camera = chosen;
      const cam = chosen;
      topic = cam.topic;
      user = cameraUser(node, cam, {
        status: (s: NodeStatus) => {
          cameraStatus = s;
          if (s.fill === 'red' || s.fill === 'yellow') show(s);
          else if (!node.counts.analysed) show(s);
        },
        frame: (frame: SharedFrame) => frameIn(() => frame.take(), frame.info.receivedAt),
      });
      cam.register(user);
      // frames are wanted all the time, also from a camera that connects on demand
      cam.setDemand(user, true);
    } else {
      showFrame(null);
    }
    nodes.set(node.id, node);

    node.on('input', (msg, _send, done) => {
      if (msg.payload === 'reset') {
        detector.reset();
        done();
        return;
      }
      if (camera) {
        // frames come from the camera
        done();
        return;
      }
      if (!isJpeg(msg.payload)) {
        // one report per run of bad messages: a flow at 25 fps must not flood the log
        if (badInput++ === 0) done(new Error('msg.payload must be a Buffer holding a JPEG image'));
        else done();
        return;
      }
      badInput = 0;
      if (typeof msg.topic === 'string') topic = msg.topic;
      const frame = (msg as { frame?: { receivedAt?: unknown } }).frame;
      const t = typeof frame?.receivedAt === 'number' && Number.isFinite(frame.receivedAt) ? frame.receivedAt : Date.now();
      const jpeg = msg.payload;
      frameIn(() => jpeg, t);
      done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      if (endTimer) clearTimeout(endTimer);
      endTimer = null;
      if (nodes.get(node.id) === node) nodes.delete(node.id);
      node.latestJpeg = null;
      if (camera && user) camera.deregister(user, removed, done);
      else done();
    });
  }

  RED.nodes.registerType<MotionNode, MotionDef, object, object>('mjpeg motion', MjpegMotion);
};
