/**
 * `rtsp-mjpeg in`: one message per JPEG frame of an `rtsp-camera` (msg.payload the JPEG,
 * msg.topic the camera, msg.frame its metadata), optionally thinned to `maxFps`, or only
 * on request. Frames are never queued: Node-RED's send() cannot push back, so at most one
 * frame waits for the next event-loop turn and a newer frame replaces it (counted as
 * dropped downstream). A message with payload "snapshot" (any message in request mode)
 * emits the latest frame once, if it is at most `maxAge` seconds old; else the next frame, or
 * an error naming why there is none (a stalled or failing camera never yields an old picture). "start" and "stop" start and stop the stream (it starts on
 * deploy unless `startOnDeploy` is off); a stopped node sends no frames and does not keep an
 * on-demand camera connected.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { FrameInfo } from '../camera/types';
import { findCamera, cameraUser, OperationalError } from './lib/camera-user';
import { FrameRateGate } from './lib/frame-gate';
import { flagField, maxFpsField, snapshotMaxAgeMs } from './lib/fields';
import { senderStatus } from './lib/status';
import type { SharedFrame } from './lib/camera-contract';

interface MjpegInDef extends NodeDef {
  camera?: string | undefined;
  maxFps?: number | string | undefined;
  mode?: 'stream' | 'request' | string | undefined;
  startOnDeploy?: boolean | string | undefined;
  /** seconds: a snapshot is never older (default 2) */
  maxAge?: number | string | undefined;
}

interface MjpegInNode extends Node {
  /** frames this node dropped because the previous one had not been sent yet */
  framesDroppedDownstream: number;
  /** frames skipped to honour maxFps */
  framesSkipped: number;
}

/** how long a snapshot request waits for a fresh frame */
const SNAPSHOT_WAIT_MS = 10000;

/** msg.frame exactly as the contract lists it, as a fresh object per message */
function frameMeta(info: FrameInfo): FrameInfo {
  return {
    index: info.index,
    width: info.width,
    height: info.height,
    rtpTimestamp: info.rtpTimestamp,
    ssrc: info.ssrc,
    receivedAt: info.receivedAt,
    capturedAt: info.capturedAt,
  };
}

interface Waiter {
  msg: NodeMessageInFlow;
  send: (msg: NodeMessage) => void;
  done: (err?: Error) => void;
  timer: NodeJS.Timeout;
}

export = function (RED: NodeAPI): void {
  function RtspMjpegIn(this: MjpegInNode, def: MjpegInDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's constructor style: the node object is captured by the handlers below
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    node.framesDroppedDownstream = 0;
    node.framesSkipped = 0;
    const camera = findCamera(RED, node, def.camera);
    if (!camera) return;
    const maxFps = maxFpsField(def.maxFps);
    const gate = new FrameRateGate(maxFps);
    const requestOnly = def.mode === 'request';
    const maxAge = snapshotMaxAgeMs(def.maxAge);
    let pending: { jpeg: Buffer; info: FrameInfo } | null = null;
    let flush: NodeJS.Immediate | null = null;
    const waiters = new Set<Waiter>();
    let closed = false;
    let started = flagField(def.startOnDeploy, true);
    const STOPPED: NodeStatus = { fill: 'grey', shape: 'ring', text: 'stopped' };
    /** the camera's status, with the rate this node sends while it plays */
    const own = (s: NodeStatus): NodeStatus => senderStatus(s, camera.stats(), { maxFps, onRequest: requestOnly });

    const sendPending = (): void => {
      flush = null;
      const p = pending;
      pending = null;
      if (!p || closed) return;
      node.send({ payload: p.jpeg, topic: camera.topic, frame: frameMeta(p.info) });
    };

    const answer = (w: Waiter, jpeg: Buffer, info: FrameInfo): void => {
      clearTimeout(w.timer);
      waiters.delete(w);
      // reuse the request message, so e.g. an http in → http response flow keeps req/res
      w.msg.payload = jpeg;
      w.msg.topic = camera.topic;
      w.msg.frame = frameMeta(info);
      w.send(w.msg);
      w.done();
    };

    /** Fails every waiting snapshot with `err` (the camera cannot give a fresh frame). */
    const failWaiters = (err: Error): void => {
      for (const w of [...waiters]) {
        clearTimeout(w.timer);
        waiters.delete(w);
        w.done(err);
      }
      snapshotDemand();
    };

    const user = cameraUser(node, camera, {
      status: (s: NodeStatus) => {
        if (s.fill === 'red' && waiters.size > 0) failWaiters(new OperationalError('no frame', `no fresh frame: the camera is failing (${String(s.text ?? '')})`));
        // a stopped stream node says so, whatever its camera does
        node.status(!started && !requestOnly && Object.keys(s).length > 0 ? STOPPED : own(s));
      },
      frame: (frame: SharedFrame) => {
        if (closed) return;
        if (waiters.size > 0) {
          for (const w of [...waiters]) answer(w, Buffer.from(frame.take()), frame.info);
          snapshotDemand();
        }
        if (requestOnly || !started) return;
        if (!gate.admit(frame.info)) {
          node.framesSkipped++;
          return;
        }
        if (pending) {
          // the previous frame is still waiting for its turn: the newer one wins
          node.framesDroppedDownstream++;
          camera.countDownstreamDrop();
        }
        pending = { jpeg: frame.take(), info: frame.info };
        if (!flush) flush = setImmediate(sendPending);
      },
    });

    /** an on-demand camera stays connected while a snapshot waits */
    const snapshotDemand = (): void => camera.setDemand(user, waiters.size > 0, 'snapshot');

    const setStarted = (on: boolean): void => {
      if (requestOnly) return;
      started = on;
      if (!on) {
        if (flush) clearImmediate(flush);
        flush = null;
        pending = null;
      }
      camera.setDemand(user, on);
      node.status(on ? own(camera.currentStatus()) : STOPPED);
    };

    node.on('input', (msg, send, done) => {
      if (msg.payload === 'start' || msg.payload === 'stop') {
        setStarted(msg.payload === 'start');
        done();
        return;
      }
      if (!requestOnly && msg.payload !== 'snapshot') {
        done();
        return;
      }
      const latest = camera.latestFrame();
      const timer = setTimeout(() => {
        waiters.delete(w);
        snapshotDemand();
        const last = camera.latestFrame();
        const age = last ? `; the last one is ${Math.round((Date.now() - last.info.receivedAt) / 100) / 10} s old` : '';
        const status = camera.currentStatus().text;
        done(new OperationalError('timeout', `no fresh frame from the camera within ${SNAPSHOT_WAIT_MS / 1000} s${age}${status ? ` (camera: ${String(status)})` : ''}`));
      }, SNAPSHOT_WAIT_MS);
      const w: Waiter = { msg, send, done, timer };
      waiters.add(w);
      // the latest frame may already have been sent on: hand out a copy, if it is fresh
      if (latest && Date.now() - latest.info.receivedAt <= maxAge) answer(w, Buffer.from(latest.jpeg), latest.info);
      else if (camera.currentStatus().fill === 'red') failWaiters(new OperationalError('no frame', `no fresh frame: the camera is failing (${String(camera.currentStatus().text ?? '')})`));
      snapshotDemand();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      if (flush) clearImmediate(flush);
      flush = null;
      pending = null;
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.done();
      }
      waiters.clear();
      camera.deregister(user, removed, done);
    });

    camera.register(user);
    if (!requestOnly) {
      if (started) camera.setDemand(user, true);
      else node.status(STOPPED);
    }
  }

  RED.nodes.registerType<MjpegInNode, MjpegInDef, object, object>('rtsp-mjpeg in', RtspMjpegIn);
};
