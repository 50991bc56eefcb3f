/**
 * What the `rtsp-camera` config node offers the nodes that use it (and what they implement
 * to receive its events). Kept apart from the node modules because those use `export =`.
 */
import type { Node, NodeDef, NodeStatus } from 'node-red';
import type { FrameInfo, StatsReport } from '../../camera/types';
import type { CameraErrorReason } from '../../errors';
import type { CameraFields } from './camera-options';
import type { Login } from '../../rtsp/credentials';

export interface CameraCredentials {
  username?: string | undefined;
  password?: string | undefined;
}

export interface CameraDef extends NodeDef, Omit<CameraFields, 'name'> {}

/** One decoded frame handed to every user; `take()` gives the first taker the session's
 * Buffer and later takers their own copy, so no two messages share bytes. */
export interface SharedFrame {
  readonly info: FrameInfo;
  take(): Buffer;
}

/** What a node using the camera implements. */
export interface CameraUser {
  readonly id: string;
  cameraStatus(status: NodeStatus): void;
  /** message is credential-free */
  cameraError(reason: CameraErrorReason, message: string): void;
  cameraFrame?(frame: SharedFrame): void;
  /** an on-demand camera closed its session (nobody wanted frames for `linger`): a frame
   * kept from it is stale now */
  cameraIdle?(): void;
}

export interface CameraStats extends StatsReport {
  /** frames `rtsp-mjpeg in` nodes dropped because the previous one was still being sent */
  framesDroppedDownstream: number;
}

export interface RtspCameraNode extends Node<CameraCredentials> {
  /** msg.topic for this camera: its name, or the URL without credentials */
  readonly topic: string;
  readonly cleanUrl: string;
  /** the ONVIF device-service URL from the `onvif` field, null when none was set */
  readonly onvif?: string | null;
  /** the user name and password the camera uses (rtsp/credentials' rule) and the secrets
   * to strip from texts about it; for services of the same camera (its ONVIF events) */
  readonly login: Login;
  register(user: CameraUser): void;
  deregister(user: CameraUser, removed: boolean, done: () => void): void;
  stats(): CameraStats;
  latestFrame(): { jpeg: Buffer; info: FrameInfo } | null;
  countDownstreamDrop(): void;
  /** the current status line, for a user that just registered */
  currentStatus(): NodeStatus;
  /** `connect: on demand`: the session runs only while some user wants frames */
  readonly onDemand: boolean;
  /** A registered user wants frames (a viewer, a started stream, a pending snapshot) or no
   * longer does. `key` tells apart several wants of one user (default: the user's id). Only
   * an on-demand camera acts on it; an always-connected one runs while it has users. */
  setDemand(user: CameraUser, wanted: boolean, key?: string): void;
}
