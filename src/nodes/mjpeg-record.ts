/**
 * `mjpeg record` (palette: rtsp camera record): event clips with pre-roll. JPEG frames come
 * in (from `rtsp-mjpeg in`, or from an `rtsp-camera` directly); a trigger (`payload:
 * "start"`, or a motion message with `payload.motion === true`) writes a Motion-JPEG AVI
 * clip of the last `preRoll` seconds and everything until `postRoll` seconds after the
 * trigger ended (`"stop"`, `motion === false`), at most `maxLength` seconds; retention by
 * age and size runs after each clip. The work is in ../record; this file wires it to
 * Node-RED.
 *
 * Output 1: one message per clip, msg.payload = { file, start, end, frames, bytes,
 * preRollFrames }, and the answer to `payload: "list"`. Output 2: the frames of a clip
 * replayed at its recorded timing (`payload: "replay"`), for a camera-less `mjpeg http out`.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import { basename, isAbsolute, resolve, sep } from 'node:path';
import { Recorder, type ClipInfo, type RecorderState } from '../record/recorder';
import { CLIP_NAME, listClips } from '../record/retention';
import { replayClip } from '../record/replay';
import type { CameraUser, RtspCameraNode, SharedFrame } from './lib/camera-contract';
import { cameraUser, findOptionalCamera, isJpeg } from './lib/camera-user';
import { numberField } from './lib/fields';

interface RecordDef extends NodeDef {
  camera?: string | undefined;
  preRoll?: number | string | undefined;
  postRoll?: number | string | undefined;
  maxLength?: number | string | undefined;
  folder?: string | undefined;
  maxAgeDays?: number | string | undefined;
  maxSizeMB?: number | string | undefined;
}

interface RecordNode extends Node {
  recorder: Recorder | null;
  /** the folder clips go to, resolved */
  clipFolder: string;
}

/** what a message asks for: a frame, a trigger, a command, or nothing */
function classify(msg: NodeMessage): { frame: Buffer } | { trigger: boolean } | { command: 'replay' | 'list' | 'stop replay' } | null {
  const p = msg.payload;
  if (isJpeg(p)) return { frame: p };
  if (p === 'start' || p === 'stop') return { trigger: p === 'start' };
  if (p === 'replay' || p === 'list' || p === 'stop replay') return { command: p };
  if (p && typeof p === 'object' && typeof (p as { motion?: unknown }).motion === 'boolean') return { trigger: (p as { motion: boolean }).motion };
  return null;
}

export = function (RED: NodeAPI): void {
  function MjpegRecord(this: RecordNode, def: RecordDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's constructor style: the node object is captured by the handlers below
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    node.recorder = null;
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
    const folderSetting = (def.folder ?? '').trim() || 'clips';
    node.clipFolder = isAbsolute(folderSetting) ? folderSetting : resolve(userDir, folderSetting);
    const preRoll = numberField(def.preRoll, 0, 60, 5);
    let camera: RtspCameraNode | null = null;
    let user: CameraUser | null = null;
    let cameraStatus: NodeStatus = {};
    let closed = false;
    let badInput = 0;
    let topic = '';
    let replaying: AbortController | null = null;
    let lastError = '';
    let ticker: NodeJS.Timeout | null = null;

    const showStatus = (): void => {
      if (closed) return;
      const r = node.recorder;
      if (cameraStatus.fill === 'red') return node.status(cameraStatus);
      if (lastError) return node.status({ fill: 'red', shape: 'ring', text: lastError });
      const state: RecorderState = r?.state ?? 'idle';
      if (state === 'recording' || state === 'post-roll') {
        const secs = Math.round((r?.currentDuration ?? 0) / 1000);
        node.status({ fill: 'red', shape: state === 'recording' ? 'dot' : 'ring', text: `${state === 'recording' ? 'recording' : 'post-roll'} · ${secs} s` });
        return;
      }
      if (replaying) return node.status({ fill: 'blue', shape: 'dot', text: 'replaying a clip' });
      node.status({ fill: 'grey', shape: 'ring', text: `ready · ${preRoll} s pre-roll` });
    };

    const recorder = new Recorder({
      folder: node.clipFolder,
      preRoll,
      postRoll: numberField(def.postRoll, 0, 3600, 10),
      maxLength: numberField(def.maxLength, 1, 24 * 3600, 120),
      maxAgeDays: numberField(def.maxAgeDays, 0, 36500, 7),
      maxSizeMB: numberField(def.maxSizeMB, 0, 1e9, 1024),
    }, {
      clip: (c: ClipInfo) => {
        lastError = '';
        if (!closed) node.send([{ topic, payload: { file: c.file, start: c.start, end: c.end, frames: c.frames, bytes: c.bytes, preRollFrames: c.preRollFrames } }, null]);
        showStatus();
      },
      error: (e: Error) => {
        lastError = 'clip failed';
        node.error(`clip: ${e.message}`, { topic, payload: null });
        showStatus();
      },
      state: (s: RecorderState) => {
        if (ticker) clearInterval(ticker);
        ticker = s === 'idle' ? null : setInterval(showStatus, 1000);
        showStatus();
      },
    });
    node.recorder = recorder;
    recorder.start().catch((e: unknown) => node.warn(`retention: ${e instanceof Error ? e.message : String(e)}`));

    /** a clip of this node's folder, by name or path; null when the message names something else */
    const clipPath = async (file: unknown): Promise<string | null> => {
      if (file === undefined || file === null || file === '') {
        const clips = await listClips(node.clipFolder);
        return clips.length > 0 ? clips[clips.length - 1]!.path : null;
      }
      if (typeof file !== 'string') return null;
      const path = resolve(node.clipFolder, file);
      // only clips of this folder: a flow must not make this node read any file
      if (!path.startsWith(node.clipFolder + sep) || !CLIP_NAME.test(basename(path))) return null;
      return path;
    };

    const replay = async (msg: NodeMessage, done: (err?: Error) => void): Promise<void> => {
      const path = await clipPath((msg as { file?: unknown }).file);
      if (!path) {
        done(new Error('replay: msg.file must name a clip of this node\'s folder (none = the latest)'));
        return;
      }
      replaying?.abort();
      const ac = new AbortController();
      replaying = ac;
      showStatus();
      try {
        const r = await replayClip(path, (jpeg, clipMs) => {
          if (!closed) node.send([null, { topic: 'replay', payload: jpeg, file: path, clipMs } as NodeMessage]);
        }, { signal: ac.signal });
        if (!r.aborted && !closed) node.send([null, { topic: 'replay end', payload: null, file: path, frames: r.frames, durationMs: r.durationMs } as NodeMessage]);
        done();
      } catch (e) {
        done(new Error(`replay of ${basename(path)}: ${e instanceof Error ? e.message : String(e)}`));
      } finally {
        if (replaying === ac) replaying = null;
        showStatus();
      }
    };

    const chosen = findOptionalCamera(RED, node, def.camera);
    if (chosen) {
      camera = chosen;
      const cam = chosen;
      topic = cam.topic;
      user = cameraUser(node, cam, {
        status: (s: NodeStatus) => {
          cameraStatus = s;
          showStatus();
        },
        frame: (frame: SharedFrame) => {
          if (!closed) recorder.push(frame.take(), frame.info.receivedAt);
        },
      });
      cam.register(user);
      // the pre-roll needs frames all the time, also from a camera that connects on demand
      cam.setDemand(user, true);
    }
    showStatus();

    node.on('input', (msg, _send, done) => {
      const what = classify(msg);
      if (what && 'frame' in what) {
        if (camera) {
          // frames come from the camera
          done();
          return;
        }
        badInput = 0;
        if (typeof msg.topic === 'string') topic = msg.topic;
        // the frame's own time when it is recent (triggers run on the wall clock), else now
        const frame = (msg as { frame?: { receivedAt?: unknown } }).frame;
        const now = Date.now();
        const at = frame?.receivedAt;
        const t = typeof at === 'number' && Number.isFinite(at) && Math.abs(now - at) < 10_000 ? at : now;
        recorder.push(what.frame, t);
        done();
        return;
      }
      if (what && 'trigger' in what) {
        recorder.trigger(what.trigger);
        done();
        return;
      }
      if (what && 'command' in what) {
        if (what.command === 'stop replay') {
          replaying?.abort();
          done();
        } else if (what.command === 'replay') {
          void replay(msg, done);
        } else {
          listClips(node.clipFolder).then((clips) => {
            const payload = clips.map((c) => ({ file: c.path, name: c.name, bytes: c.bytes, time: Math.round(c.mtime) })).reverse();
            node.send([{ ...msg, topic: 'clips', payload }, null]);
            done();
          }, (e: unknown) => done(e instanceof Error ? e : new Error(String(e))));
        }
        return;
      }
      // one report per run of bad messages
      if (badInput++ === 0) done(new Error('msg.payload must be a JPEG Buffer, "start", "stop", a motion message, "replay" or "list"'));
      else done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      if (ticker) clearInterval(ticker);
      replaying?.abort();
      const finish = (): void => {
        if (camera && user) camera.deregister(user, removed, done);
        else done();
      };
      // the clip being written is closed properly (its index written)
      recorder.stop().then(finish, finish);
    });
  }

  RED.nodes.registerType<RecordNode, RecordDef, object, object>('mjpeg record', MjpegRecord);
};
