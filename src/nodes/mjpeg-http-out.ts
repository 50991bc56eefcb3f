/**
 * `mjpeg http out`: serves a camera (or the JPEG Buffers arriving on its input) to browsers
 * on Node-RED's own HTTP server: `GET <path>` streams multipart/x-mixed-replace, `GET
 * <path>/snapshot.jpg` answers the latest frame. The viewer fan-out lives in
 * ../http/mjpeg-viewers; this file wires it to Node-RED: the routes on RED.httpNode (so
 * httpNodeAuth, httpNodeMiddleware and httpNodeCors apply), the camera's frames or the
 * input, the camera's on-demand rule, and the status line.
 */
import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import type { Request, Response } from 'express';
import { MjpegViewers } from '../http/mjpeg-viewers';
import type { CameraErrorReason } from '../errors';
import type { CameraUser, RtspCameraNode, SharedFrame } from './lib/camera-contract';
import { ErrorReporter } from './lib/camera-user';
import { mountGetRoutes, normalizePath, type RouteApp, type RouteSettings } from './lib/http-route';

interface HttpOutDef extends NodeDef {
  camera?: string | undefined;
  path?: string | undefined;
  maxFps?: number | string | undefined;
  maxViewers?: number | string | undefined;
}

interface HttpOutSettings extends RouteSettings {
  /** ms a snapshot waits for a first frame */
  mjpegHttpOutSnapshotTimeout?: number;
}

interface HttpOutNode extends Node {
  /** the served path (relative to httpNodeRoot), null when none could be mounted */
  servedPath: string | null;
  viewers: MjpegViewers | null;
}

const DEFAULT_MAX_VIEWERS = 10;
const DEFAULT_SNAPSHOT_TIMEOUT_MS = 10000;

function numberIn(v: unknown, min: number, max: number, fallback: number): number {
  if (v === '' || v === null || v === undefined || typeof v === 'boolean') return fallback;
  const n = Number(v);
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

function isJpeg(b: unknown): b is Buffer {
  return Buffer.isBuffer(b) && b.length >= 4 && b[0] === 0xff && b[1] === 0xd8;
}

export = function (RED: NodeAPI): void {
  const settings = RED.settings as unknown as HttpOutSettings;
  /** path → id of the node serving it, across this runtime */
  const claimed = new Map<string, string>();

  function MjpegHttpOut(this: HttpOutNode, def: HttpOutDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's constructor style: the node object is captured by the handlers below
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    node.servedPath = null;
    node.viewers = null;

    const path = normalizePath(def.path);
    if (!path) {
      node.status({ fill: 'red', shape: 'ring', text: 'bad path' });
      node.error(`path "${String(def.path ?? '')}" is not a URL path such as /cameras/front`);
      return;
    }
    const owner = claimed.get(path);
    if (owner !== undefined && owner !== node.id) {
      node.status({ fill: 'red', shape: 'ring', text: 'path in use' });
      node.error(`path ${path} is already served by another mjpeg http out node (${owner})`);
      return;
    }
    const app = RED.httpNode as unknown as RouteApp | undefined;
    if (!app || typeof app.use !== 'function') {
      // settings.js has httpNodeRoot: false
      node.status({ fill: 'red', shape: 'ring', text: 'no http server' });
      node.error('Node-RED serves no HTTP nodes here (httpNodeRoot is false in settings.js)');
      return;
    }
    let camera: RtspCameraNode | null = null;
    // "_ADD_" is the editor's "none" entry of a config-node list
    if (def.camera && def.camera !== '_ADD_') {
      camera = RED.nodes.getNode(def.camera) as RtspCameraNode | null;
      if (!camera || typeof camera.register !== 'function') {
        node.status({ fill: 'red', shape: 'ring', text: 'no camera' });
        node.error('the rtsp-camera of this node is missing (or disabled)');
        return;
      }
    }
    claimed.set(path, node.id);
    node.servedPath = path;

    const snapshotTimeout = numberIn(settings.mjpegHttpOutSnapshotTimeout, 1, 600000, DEFAULT_SNAPSHOT_TIMEOUT_MS);
    let cameraStatus: NodeStatus = {};
    let closed = false;
    let badInputs = 0;
    let user: CameraUser | null = null;

    const showStatus = (): void => {
      if (closed) return;
      const v = hub.viewerCount;
      if (cameraStatus.fill === 'red') {
        node.status({ ...cameraStatus, text: `${String(cameraStatus.text ?? '')}${v ? ` · ${v} waiting` : ''}` });
        return;
      }
      if (v === 0) {
        node.status({ fill: 'grey', shape: 'ring', text: 'no viewers' });
        return;
      }
      const fps = hub.fps();
      const text = `${v} viewer${v === 1 ? '' : 's'} · ${fps > 0 ? `${fps} fps` : String(cameraStatus.text ?? 'waiting')}`;
      node.status({ fill: fps > 0 ? 'green' : 'yellow', shape: fps > 0 ? 'dot' : 'ring', text });
    };

    const hub = new MjpegViewers({
      maxViewers: Math.round(numberIn(def.maxViewers, 1, 10000, DEFAULT_MAX_VIEWERS)),
      maxFps: numberIn(def.maxFps, 0, 1000, 0),
      snapshotTimeoutMs: snapshotTimeout,
      onDemand: (wanted) => {
        if (camera && user) camera.setDemand(user, wanted);
      },
      onViewers: () => showStatus(),
    });
    node.viewers = hub;
    // the status follows the frame rate while someone watches
    const ticker = setInterval(() => {
      if (hub.viewerCount > 0) showStatus();
    }, 1000);

    const onRequest = (req: Request, res: Response): void => {
      if (req.path === path) {
        const raw = req.query.fps;
        let fps = 0;
        if (raw !== undefined) {
          fps = Number(raw);
          if (typeof raw !== 'string' || !Number.isFinite(fps) || fps < 0) {
            res.status(400).type('text/plain').send('fps must be a number ≥ 0\n');
            return;
          }
        }
        hub.stream(req, res, fps);
      } else {
        hub.snapshot(req, res);
      }
    };
    const unmount = mountGetRoutes(
      app,
      settings,
      (p) => p === path || p === `${path}/snapshot.jpg`,
      onRequest,
    );

    if (camera) {
      const cam = camera;
      const errors = new ErrorReporter(node, () => cam.topic);
      user = {
        id: node.id,
        cameraStatus: (s: NodeStatus) => {
          cameraStatus = s;
          // connecting, reconnecting or failed: a snapshot must not be a frame from before
          if (s.fill !== undefined && s.fill !== 'green') hub.clearLatest();
          showStatus();
        },
        cameraError: (reason: CameraErrorReason, message: string) => errors.report(reason, message),
        cameraFrame: (frame: SharedFrame) => {
          if (closed) return;
          errors.reset();
          hub.push(frame.take());
        },
        cameraIdle: () => hub.clearLatest(),
      };
      cam.register(user);
    } else {
      showStatus();
    }

    node.on('input', (msg, _send, done) => {
      if (camera) {
        // frames come from the camera; input is for the camera-less mode
        done();
        return;
      }
      if (!isJpeg(msg.payload)) {
        // one report per run of bad messages: a flow at 25 fps must not flood the log
        if (badInputs++ === 0) done(new Error('msg.payload must be a Buffer holding a JPEG image'));
        else done();
        return;
      }
      badInputs = 0;
      // a copy: the flow may change its Buffer after sending it on
      hub.push(Buffer.from(msg.payload));
      done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      clearInterval(ticker);
      unmount();
      if (claimed.get(path) === node.id) claimed.delete(path);
      hub.close();
      if (camera && user) camera.deregister(user, removed, done);
      else done();
    });
  }

  RED.nodes.registerType<HttpOutNode, HttpOutDef, Required<Pick<HttpOutSettings, 'mjpegHttpOutSnapshotTimeout'>>, object>('mjpeg http out', MjpegHttpOut, {
    settings: {
      mjpegHttpOutSnapshotTimeout: { value: DEFAULT_SNAPSHOT_TIMEOUT_MS, exportable: false },
    },
  });
};
