/**
 * `onvif events` (palette: "rtsp camera events"): the camera's own events, from its ONVIF
 * event service (a pull-point subscription, src/onvif/events.ts), one message per
 * notification: msg.topic the event topic (tns1:RuleEngine/CellMotionDetector/Motion, …),
 * msg.payload { state, source, data, time }. `topics` keeps only the events whose topic
 * contains one of its comma-separated parts (empty: all).
 *
 * The device-service URL is the camera's `onvif` property (Find cameras fills it in); without
 * one, the camera's host on port 80 with the standard path. The camera's credentials are used.
 * Independent of the RTSP session: this node opens no stream. On redeploy the subscription is
 * ended with Unsubscribe.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { PullPointSubscription, type EventsStateChange, type OnvifEvent } from '../onvif/events';
import { CameraError, REASON_ADVICE, type CameraErrorReason } from '../errors';
import { redactText } from '../rtsp/redact';
import { ErrorReporter, findCamera } from './lib/camera-user';
import { retryIn } from './lib/status';
import { guessDeviceUrl, topicFilter } from './lib/onvif-events-options';

interface OnvifEventsDef extends NodeDef {
  camera?: string | undefined;
  topics?: string | undefined;
}

function stateText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return '';
  return String(v).slice(0, 20);
}

export = function (RED: NodeAPI): void {
  function OnvifEvents(this: Node, def: OnvifEventsDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's constructor style: the node object is captured by the handlers below
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const camera = findCamera(RED, node, def.camera);
    if (!camera) return;
    const deviceUrl = camera.onvif ?? guessDeviceUrl(camera.cleanUrl);
    if (!deviceUrl) {
      node.status({ fill: 'red', shape: 'ring', text: 'no ONVIF address' });
      node.error('the camera has no ONVIF device-service URL: use Find cameras in its dialog, or fill in the ONVIF field');
      return;
    }
    const login = camera.login;
    const redact = (t: string): string => redactText(t, login.secrets);
    const errors = new ErrorReporter(node, () => camera.topic);
    const pass = topicFilter(def.topics);
    const sub = new PullPointSubscription(deviceUrl, { username: login.username, password: login.password });

    sub.on('state', (c: EventsStateChange) => {
      switch (c.state) {
        case 'connecting': node.status({ fill: 'yellow', shape: 'ring', text: 'subscribing' }); break;
        case 'subscribed': errors.reset(); node.status({ fill: 'green', shape: 'dot', text: 'subscribed' }); break;
        case 'reconnecting': {
          const reason = c.reason ?? 'connection lost';
          const advice = REASON_ADVICE[reason];
          const when = c.retryInMs !== undefined ? ` (retry ${retryIn(c.retryInMs)})` : '';
          node.status({ fill: 'red', shape: 'ring', text: `${reason}${advice ? `: ${advice}` : ''}${when}` });
          break;
        }
        case 'closed': node.status({}); break;
      }
    });
    sub.on('error', (e: CameraError) => {
      const reason: CameraErrorReason = e instanceof CameraError ? e.reason : 'protocol error';
      errors.report(reason, redact(`ONVIF events ${deviceUrl}: ${e.message}`));
    });
    sub.on('event', (e: OnvifEvent) => {
      if (!pass(e.topic)) return;
      const msg: NodeMessage = { topic: e.topic, payload: e.payload, operation: e.operation, cameraTime: e.cameraTime, camera: camera.topic };
      node.send(msg);
      const last = e.topic.split('/').pop() ?? e.topic;
      const t = new Date(e.payload.time);
      const hhmmss = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}:${String(t.getSeconds()).padStart(2, '0')}`;
      node.status({ fill: 'green', shape: 'dot', text: `${last} ${stateText(e.payload.state)} at ${hhmmss}`.replace(/\s+/g, ' ') });
    });
    sub.start();

    node.on('close', (_removed: boolean, done: () => void) => {
      // Unsubscribe is bounded (3 s); Node-RED's close timeout is 15 s
      sub.close().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('onvif events', OnvifEvents);
};
