/**
 * Shared plumbing of the nodes that use an `rtsp-camera`: find the config node (required or
 * optional), tell a JPEG on the input of those that can go without one, report
 * camera failures so Catch nodes see them (a source node must pass a message object to
 * node.error for that: Catch nodes ignore errors reported without one), and do not repeat
 * the same failure on every retry.
 */
import type { Node, NodeAPI } from 'node-red';
import type { CameraErrorReason } from '../../errors';
import type { RtspCameraNode } from './camera-contract';

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
