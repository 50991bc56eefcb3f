/**
 * `rtsp-mjpeg in`: one message per JPEG frame of an `rtsp-camera` (msg.payload the JPEG,
 * msg.topic the camera, msg.frame its metadata), optionally thinned to `maxFps`, or only
 * on request. Frames are never queued: Node-RED's send() cannot push back, so at most one
 * frame waits for the next event-loop turn and a newer frame replaces it (counted as
 * dropped downstream). A message with payload "snapshot" (any message in request mode)
 * emits the latest frame once. "start" and "stop" start and stop the stream (it starts on
 * deploy unless `startOnDeploy` is off); a stopped node sends no frames and does not keep an
 * on-demand camera connected.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import type { FrameInfo } from '../camera/types';
import type { CameraErrorReason } from '../errors';
import { findCamera, ErrorReporter, OperationalError } from './lib/camera-user';
import { FrameRateGate } from './lib/frame-gate';
import { senderStatus } from './lib/status';
import type { CameraUser, SharedFrame } from './lib/camera-contract';

interface MjpegInDef extends NodeDef {
  camera?: string | undefined;
  maxFps?: number | string | undefined;
  mode?: 'stream' | 'request' | string | undefined;
  startOnDeploy?: boolean | string | undefined;
}

interface MjpegInNode extends Node {
  /** frames this node dropped because the previous one had not been sent yet */
  framesDroppedDownstream: number;
  /** frames skipped to honour maxFps */
  framesSkipped: number;
}

/** how long a snapshot request waits for a first frame */
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
    const maxFps = Number(def.maxFps);
    const gate = new FrameRateGate(Number.isFinite(maxFps) ? maxFps : 0);
    const requestOnly = def.mode === 'request';
    const errors = new ErrorReporter(node, () => camera.topic);
    let pending: { jpeg: Buffer; info: FrameInfo } | null = null;
    let flush: NodeJS.Immediate | null = null;
    const waiters = new Set<Waiter>();
    let closed = false;
    let started = def.startOnDeploy !== false && def.startOnDeploy !== 'false';
    const STOPPED: NodeStatus = { fill: 'grey', shape: 'ring', text: 'stopped' };
    /** the camera's status, with the rate this node sends while it plays */
    const own = (s: NodeStatus): NodeStatus => senderStatus(s, camera.stats(), { maxFps: Number.isFinite(maxFps) ? maxFps : 0, onRequest: requestOnly });

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

    const user: CameraUser = {
      id: node.id,
      // a stopped stream node says so, whatever its camera does
      cameraStatus: (s: NodeStatus) => node.status(!started && !requestOnly && Object.keys(s).length > 0 ? STOPPED : own(s)),
      cameraError: (reason: CameraErrorReason, message: string) => errors.report(reason, message),
      cameraFrame: (frame: SharedFrame) => {
        if (closed) return;
        errors.reset();
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
    };

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
        done(new OperationalError('timeout', `no frame from the camera within ${SNAPSHOT_WAIT_MS / 1000} s`));
      }, SNAPSHOT_WAIT_MS);
      const w: Waiter = { msg, send, done, timer };
      waiters.add(w);
      // the latest frame may already have been sent on: hand out a copy
      if (latest) answer(w, Buffer.from(latest.jpeg), latest.info);
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
