/**
 * `rtsp-camera` config node: one camera, one CameraSession shared by every node that uses
 * it. This file is the wiring: the editor's fields become CameraOptions (lib/camera-options),
 * the credential fields and the URL's userinfo one login (rtsp/credentials), and the sharing
 * itself (users, session, on-demand rule, grace period, status and frame fan-out) is
 * lib/camera-hub's, which this node's methods hand on to. Registers the editor's "Test
 * connection" and "Find cameras" routes and the deploy guard that moves credentials out of
 * deployed URLs.
 */
import type { NodeAPI } from 'node-red';
import { openCamera } from '../camera/open';
import type { CameraOptions } from '../camera/types';
import { DEFAULT_MAX_FRAME_BYTES } from '../camera/defaults';
import { redactText } from '../rtsp/redact';
import { pickLogin } from '../rtsp/credentials';
import { cameraOptionsFromFields, DEFAULT_UDP_PORT_RANGE_TEXT, onvifUrlFromField } from './lib/camera-options';
import type { CameraCredentials, CameraDef, RtspCameraNode } from './lib/camera-contract';
import { CameraHub } from './lib/camera-hub';
import { registerConnectionTestRoute } from './lib/connection-test';
import { registerOnvifRoutes } from './lib/onvif-routes';
import { splitUrlCredentials } from './lib/url-credentials';
import { installDeployGuard } from './lib/deploy-guard';
import { parseConnect, parseLingerS } from './lib/on-demand';

interface CameraSettings {
  rtspCameraUdpPortRange: string;
  rtspCameraTestTimeout: number;
}

function settingString(v: unknown, fallback: string): string {
  return typeof v === 'string' && v.trim() !== '' ? v : fallback;
}

export = function (RED: NodeAPI): void {
  const settings = RED.settings as unknown as Partial<CameraSettings>;
  const portRangeSetting = (): string => settingString(settings.rtspCameraUdpPortRange, DEFAULT_UDP_PORT_RANGE_TEXT);

  function RtspCamera(this: RtspCameraNode, def: CameraDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's constructor style: the node object is captured by the handlers below
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const split = splitUrlCredentials(def.url ?? '');
    if (split.username !== undefined || split.password !== undefined) {
      // a URL with user:pass@ that no deploy cleaned (flows.json written by hand, or a guard
      // that could not be placed): use it clean, never log it, and say how to fix it
      node.warn('the camera URL holds a user name or password, which flows.json keeps in clear: open this camera node in the editor and deploy, which moves them to the encrypted credential fields');
    }
    // the credential fields before the URL's userinfo
    const login = pickLogin(node.credentials, split);
    const cleanUrl = split.url;
    const redact = (text: string): string => redactText(text, login.secrets);
    const options: CameraOptions = {
      ...cameraOptionsFromFields(def, portRangeSetting()),
      username: login.username,
      password: login.password,
      logger: (level, message) => {
        if (level === 'error' || level === 'warn') node.debug(redact(message));
        else node.trace(redact(message));
      },
    };

    Object.defineProperty(node, 'topic', { value: def.name || cleanUrl, enumerable: true });
    Object.defineProperty(node, 'cleanUrl', { value: cleanUrl, enumerable: true });
    Object.defineProperty(node, 'onvif', { value: onvifUrlFromField(def.onvif), enumerable: true });
    // not enumerable: kept out of anything that lists the node's properties
    Object.defineProperty(node, 'login', { value: login, enumerable: false });
    const onDemand = parseConnect(def.connect) === 'on demand';
    Object.defineProperty(node, 'onDemand', { value: onDemand, enumerable: true });

    const hub = new CameraHub({
      url: cleanUrl,
      open: () => openCamera(cleanUrl, options),
      onDemand,
      lingerMs: parseLingerS(def.linger) * 1000,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      redact,
      log: (line) => node.log(line),
    });
    node.register = (user) => hub.register(user);
    node.setDemand = (user, wanted, key) => hub.setDemand(user, wanted, key);
    node.deregister = (user, removed, done) => hub.deregister(user, removed, done);
    node.stats = () => hub.stats();
    node.latestFrame = () => hub.latestFrame();
    node.countDownstreamDrop = () => hub.countDownstreamDrop();
    node.currentStatus = () => hub.currentStatus();

    // (removed, done): Node-RED passes `done` only to handlers that declare two parameters
    node.on('close', (_removed: boolean, done: () => void) => {
      hub.close().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType<RtspCameraNode, CameraDef, CameraSettings, CameraCredentials>('rtsp-camera', RtspCamera, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
    settings: {
      rtspCameraUdpPortRange: { value: DEFAULT_UDP_PORT_RANGE_TEXT, exportable: true },
      rtspCameraTestTimeout: { value: 10000, exportable: false },
    },
  });

  registerConnectionTestRoute(RED, portRangeSetting, () => settings.rtspCameraTestTimeout);
  registerOnvifRoutes(RED);
  // deploys through the admin API (scripts, imports) hand a URL's credentials to the credential
  // store instead of writing them into flows.json
  const guarded = installDeployGuard(RED.httpAdmin, 'rtsp-camera', (id) => RED.nodes.getCredentials(id) as CameraCredentials | undefined,
    (n) => RED.log.info(`rtsp-camera: moved the credentials of ${n} camera URL${n === 1 ? '' : 's'} in a deploy to the credential store`));
  if (!guarded) RED.log.debug('rtsp-camera: credentials in deployed camera URLs cannot be moved to the credential store here');
};
