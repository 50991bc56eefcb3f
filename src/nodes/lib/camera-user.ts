/**
 * Shared plumbing of the nodes that use an `rtsp-camera`: find the config node, report
 * camera failures so Catch nodes see them (a source node must pass a message object to
 * node.error for that: Catch nodes ignore errors reported without one), and do not repeat
 * the same failure on every retry.
 */
import type { Node, NodeAPI } from 'node-red';
import { CameraError, type CameraErrorReason } from '../../errors';
import type { RtspCameraNode } from './camera-contract';

export function findCamera(RED: NodeAPI, node: Node, id: string | undefined): RtspCameraNode | null {
  const camera = id ? (RED.nodes.getNode(id) as RtspCameraNode | null) : null;
  if (!camera || typeof camera.register !== 'function') {
    node.status({ fill: 'red', shape: 'ring', text: 'no camera' });
    node.error('no rtsp-camera configured (or it is disabled)');
    return null;
  }
  return camera;
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
    // `code`: Node-RED copies it to msg.error.code for Catch nodes
    this.node.error(Object.assign(new CameraError(reason, text), { code: reason }), { topic: this.topic(), payload: null, reason });
  }

  /** the camera delivered again: the next failure is news */
  reset(): void {
    this.lastReason = null;
  }
}
