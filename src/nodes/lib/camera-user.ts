/**
 * Shared plumbing of the nodes that use an `rtsp-camera`: find the config node (required or
 * optional), tell a JPEG on the input of those that can go without one, report
 * camera failures so Catch nodes see them (a source node must pass a message object to
 * node.error for that: Catch nodes ignore errors reported without one), and do not repeat
 * the same failure on every retry.
 */
import type { Node, NodeAPI, NodeStatus } from 'node-red';
import type { CameraErrorReason } from '../../errors';
import type { CameraUser, RtspCameraNode, SharedFrame } from './camera-contract';

/**
 * What Node-RED gets for an expected camera failure: msg.error.message is the reason and the
 * detail, msg.error.code the reason, and no msg.error.stack. Node-RED copies `stack` to
 * Catch messages when the object has one; for a camera that refuses a password the stack
 * would only list our internal frames and the install path. Real bugs keep their stacks
 * (they are thrown Errors, not reported through this).
 */
export class OperationalError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CameraError';
    this.code = code;
    // V8 makes `stack` an own, configurable property of every Error
    delete (this as { stack?: string }).stack;
  }

  override toString(): string {
    return this.message;
  }
}

export function findCamera(RED: NodeAPI, node: Node, id: string | undefined): RtspCameraNode | null {
  const camera = id ? (RED.nodes.getNode(id) as RtspCameraNode | null) : null;
  if (!camera || typeof camera.register !== 'function') {
    node.status({ fill: 'red', shape: 'ring', text: 'no camera' });
    node.error('no rtsp-camera configured (or it is disabled)');
    return null;
  }
  return camera;
}

/**
 * The camera of a node for which one is optional (it can take frames on its input instead):
 * null when none is chosen ("_ADD_" is the editor's "none" entry of a config-node list);
 * undefined, after saying so in the status and the log, when the chosen one is missing or
 * disabled.
 */
export function findOptionalCamera(RED: NodeAPI, node: Node, id: string | undefined): RtspCameraNode | null | undefined {
  if (!id || id === '_ADD_') return null;
  const camera = RED.nodes.getNode(id) as RtspCameraNode | null;
  if (!camera || typeof camera.register !== 'function') {
    node.status({ fill: 'red', shape: 'ring', text: 'no camera' });
    node.error('the rtsp-camera of this node is missing (or disabled)');
    return undefined;
  }
  return camera;
}

/** A JPEG on a node's input (SOI first): what camera-less nodes take instead of a camera's frames. */
export function isJpeg(b: unknown): b is Buffer {
  return Buffer.isBuffer(b) && b.length >= 4 && b[0] === 0xff && b[1] === 0xd8;
}

/** Reports a camera failure once per distinct reason until the camera plays again. */
export class ErrorReporter {
  private lastReason: CameraErrorReason | null = null;

  constructor(
    private readonly node: Node,
    private readonly topic: () => string,
  ) {}

  report(reason: CameraErrorReason, message: string): void {
    if (reason === this.lastReason) return;
    this.lastReason = reason;
    const text = `${reason}: ${message}`;
    this.node.error(new OperationalError(reason, text), { topic: this.topic(), payload: null, reason });
  }

  /** the camera delivered again: the next failure is news */
  reset(): void {
    this.lastReason = null;
  }
}

/** What a node does with its camera's events (see CameraUser). */
export interface CameraHandlers {
  status(s: NodeStatus): void;
  frame?(frame: SharedFrame): void;
  idle?(): void;
}

/**
 * The CameraUser of `node`: its camera's failures reach Catch nodes once per reason
 * (ErrorReporter). A frame makes the next failure news again; for a node that takes no
 * frames, a green status (the camera plays) does. A camera that plays and stalls again and
 * again is so reported once, not once per reconnect.
 */
export function cameraUser(node: Node, camera: RtspCameraNode, h: CameraHandlers): CameraUser {
  const errors = new ErrorReporter(node, () => camera.topic);
  const user: CameraUser = {
    id: node.id,
    cameraStatus: (s) => {
      if (!h.frame && s.fill === 'green') errors.reset();
      h.status(s);
    },
    cameraError: (reason, message) => errors.report(reason, message),
  };
  const { frame, idle } = h;
  if (frame) {
    user.cameraFrame = (f) => {
      errors.reset();
      frame(f);
    };
  }
  if (idle) user.cameraIdle = idle;
  return user;
}
