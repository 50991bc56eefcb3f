/**
 * `mjpeg http out`: serves a camera (or the JPEG Buffers arriving on its input) to browsers
 * on Node-RED's own HTTP server: `GET <path>` streams multipart/x-mixed-replace, `GET
 * <path>/snapshot.jpg` answers a fresh frame. The viewer fan-out lives in
 * ../http/mjpeg-viewers; this file wires it to Node-RED: the routes on RED.httpNode (so
 * httpNodeAuth, httpNodeMiddleware and httpNodeCors apply), who holds which path
 * (lib/path-claims) and what else answers it (lib/route-overlap), the camera's frames or the
 * input, the camera's on-demand rule, its failures as a picture, and the status line.
 */
import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import type { Request, Response } from 'express';
import { MjpegViewers } from '../http/mjpeg-viewers';
import type { CameraUser, SharedFrame } from './lib/camera-contract';
import { cameraUser, findOptionalCamera, isJpeg, OperationalError } from './lib/camera-user';
import { mountGetRoutes, normalizePath, type RouteApp, type RouteSettings } from './lib/http-route';
import { PathClaims, type PathClaimant } from './lib/path-claims';
import { editorOverlap, nodeRouteOverlaps } from './lib/route-overlap';
import { maxFpsField, numberField, snapshotMaxAgeMs } from './lib/fields';

interface HttpOutDef extends NodeDef {
  camera?: string | undefined;
  path?: string | undefined;
  maxFps?: number | string | undefined;
  maxViewers?: number | string | undefined;
  /** seconds: a snapshot is never older */
  maxAge?: number | string | undefined;
}

interface HttpOutSettings extends RouteSettings {
  /** ms a snapshot waits for a fresh frame */
  mjpegHttpOutSnapshotTimeout?: number;
  httpAdminRoot?: unknown;
  httpNodeRoot?: unknown;
}

interface HttpOutNode extends Node {
  /** the served path (relative to httpNodeRoot), null when this node serves none */
  servedPath: string | null;
  viewers: MjpegViewers | null;
}

const DEFAULT_MAX_VIEWERS = 10;
const DEFAULT_SNAPSHOT_TIMEOUT_MS = 10000;

export = function (RED: NodeAPI): void {
  const settings = RED.settings as unknown as HttpOutSettings;
  /** path → the node serving it, across this runtime */
  const claims = new PathClaims();

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
    const app = RED.httpNode as unknown as RouteApp | undefined;
    if (!app || typeof app.use !== 'function') {
      // settings.js has httpNodeRoot: false
      node.status({ fill: 'red', shape: 'ring', text: 'no http server' });
      node.error('Node-RED serves no HTTP nodes here (httpNodeRoot is false in settings.js)');
      return;
    }
    const camera = findOptionalCamera(RED, node, def.camera);
    if (camera === undefined) return;

    const snapshotTimeout = numberField(settings.mjpegHttpOutSnapshotTimeout, 1, 600000, DEFAULT_SNAPSHOT_TIMEOUT_MS);
    const maxAgeMs = snapshotMaxAgeMs(def.maxAge);
    let closed = false;
    let badInputs = 0;
    let serving: { hub: MjpegViewers; stop(removed: boolean, done: () => void): void } | null = null;
    /** what else answers this path, for the status line */
    let overlap = '';
    /** a failure to report once the flows have started: Catch nodes are only wired up then */
    let pending: Error | null = null;

    const report = (err: Error): void => {
      node.error(err, { topic: path, payload: null });
    };

    /** Warns (log and status) when the editor or an `http in` route answers this path too. */
    const checkOverlaps = (): void => {
      if (!serving) return;
      const notes: string[] = [];
      const lines: string[] = [];
      const editor = editorOverlap(path, settings, RED.httpAdmin);
      if (editor) {
        notes.push('the editor');
        lines.push(`Node-RED's editor route ${editor} (httpNodeRoot lies inside httpAdminRoot; the editor answers first)`);
      }
      for (const route of nodeRouteOverlaps(path, app)) {
        const names: string[] = [];
        RED.nodes.eachNode((n) => {
          const cfg = n as unknown as { type?: string; url?: string; name?: string; id: string };
          if (cfg.type === 'http in' && typeof cfg.url === 'string' && `/${cfg.url}`.replace(/^\/+/, '/') === route) names.push(cfg.name ? `"${cfg.name}"` : cfg.id);
        });
        notes.push(names.length ? `http in ${names.join(', ')}` : route);
        lines.push(`the GET route ${route}${names.length ? ` of http in ${names.join(', ')}` : ''} (whichever was mounted first answers)`);
      }
      const text = notes.length ? `path overlaps ${notes.join(', ')}` : '';
      if (text === overlap) return;
      overlap = text;
      if (text) node.warn(`${path} is also ${lines.join(' and ')}: choose another path`);
      showStatus();
    };

    const onFlowsStarted = (): void => {
      if (closed) return;
      const err = pending;
      pending = null;
      if (err) report(err);
      checkOverlaps();
    };
    RED.events.on('flows:started', onFlowsStarted);

    let cameraStatus: NodeStatus = {};
    const showStatus = (): void => {
      const hub = serving?.hub;
      if (closed || !hub) return;
      const v = hub.viewerCount;
      let s: NodeStatus;
      if (cameraStatus.fill === 'red') {
        s = { ...cameraStatus, text: `${String(cameraStatus.text ?? '')}${v ? ` · ${v} waiting` : ''}` };
      } else if (v === 0) {
        s = { fill: 'grey', shape: 'ring', text: 'no viewers' };
      } else {
        const fps = hub.fps();
        const text = `${v} viewer${v === 1 ? '' : 's'} · ${fps > 0 ? `${fps} fps` : String(cameraStatus.text ?? 'waiting')}`;
        s = { fill: fps > 0 ? 'green' : 'yellow', shape: fps > 0 ? 'dot' : 'ring', text };
      }
      if (overlap) s = { fill: s.fill === 'red' ? 'red' : 'yellow', shape: 'ring', text: `${String(s.text)} · ${overlap}` };
      node.status(s);
    };

    /** Mounts the routes and starts serving; returns how to stop. */
    const serve = (): NonNullable<typeof serving> => {
      node.servedPath = path;
      let user: CameraUser | null = null;
      const hub = new MjpegViewers({
        maxViewers: Math.round(numberField(def.maxViewers, 1, 10000, DEFAULT_MAX_VIEWERS)),
        maxFps: maxFpsField(def.maxFps),
        snapshotTimeoutMs: snapshotTimeout,
        maxFrameAgeMs: maxAgeMs,
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
        if (req.path !== path) {
          hub.snapshot(req, res);
          return;
        }
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
      };
      const unmount = mountGetRoutes(app, settings, (p) => p === path || p === `${path}/snapshot.jpg`, onRequest);
      if (camera) {
        const cam = camera;
        user = cameraUser(node, cam, {
          status: (s: NodeStatus) => {
            cameraStatus = s;
            if (s.fill === 'red') {
              // the viewers see why there is no picture; snapshots answer 503 with it
              hub.setDown(String(s.text ?? 'camera failing'), cam.topic);
            } else if (s.fill === 'grey') {
              hub.setDown(null);
              hub.clearLatest();
            } else if (s.fill !== undefined && s.fill !== 'green') {
              // connecting or reconnecting: a snapshot must not be a frame from before
              hub.clearLatest();
            }
            showStatus();
          },
          frame: (frame: SharedFrame) => {
            if (closed) return;
            const i = frame.info;
            hub.push(frame.take(), { capturedAt: i.capturedAt ?? i.receivedAt, width: i.width, height: i.height });
          },
          idle: () => {
            hub.setDown(null);
            hub.clearLatest();
          },
        });
        cam.register(user);
      }
      showStatus();
      return {
        hub,
        stop(removed, done) {
          clearInterval(ticker);
          unmount();
          hub.close();
          node.servedPath = null;
          if (camera && user) camera.deregister(user, removed, done);
          else done();
        },
      };
    };

    const me: PathClaimant = {
      id: node.id,
      label: def.name ? `"${def.name}"` : node.id,
      take: () => {
        // after the current deploy's closes have run: a node that is itself going away passes
        // the path on instead of mounting it for a moment
        setImmediate(() => {
          if (closed) {
            claims.release(path, me);
            return;
          }
          node.log(`${path} was freed by the node that served it; serving it now`);
          serving = serve();
          checkOverlaps();
        });
      },
    };
    const holder = claims.claim(path, me);
    if (holder) {
      node.status({ fill: 'red', shape: 'ring', text: `path in use by ${holder.label}` });
      pending = new OperationalError('path in use', `path ${path} is already served by mjpeg http out ${holder.label}; this node takes it over when that one is deleted or moved`);
    } else {
      serving = serve();
    }

    node.on('input', (msg, _send, done) => {
      const hub = serving?.hub;
      if (camera || !hub) {
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
      RED.events.removeListener('flows:started', onFlowsStarted);
      const s = serving;
      serving = null;
      node.viewers = null;
      const finish = (): void => {
        claims.release(path, me);
        done();
      };
      if (s) s.stop(removed, finish);
      else finish();
    });
  }

  RED.nodes.registerType<HttpOutNode, HttpOutDef, Required<Pick<HttpOutSettings, 'mjpegHttpOutSnapshotTimeout'>>, object>('mjpeg http out', MjpegHttpOut, {
    settings: {
      mjpegHttpOutSnapshotTimeout: { value: DEFAULT_SNAPSHOT_TIMEOUT_MS, exportable: false },
    },
  });
};
