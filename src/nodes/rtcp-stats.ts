/**
 * `rtcp stats`: the reception statistics of an `rtsp-camera` (RFC 3550 §6.4 receiver-side
 * view: loss, jitter, sender report) plus frame counters, every `interval` seconds and on
 * any input message. fps and bitrateKbps are computed over this node's own interval from
 * the session's cumulative counters, so two stats nodes with different intervals each get
 * rates that match what they report.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import { findCamera, cameraUser } from './lib/camera-user';
import { numberField } from './lib/fields';
import { sampleOf, statsPayload, type RtcpStatsPayload, type Sample } from './lib/stats-payload';

interface RtcpStatsDef extends NodeDef {
  camera?: string | undefined;
  /** seconds; 0 = only on input */
  interval?: number | string | undefined;
}

type RtcpStatsNode = Node;

const DEFAULT_INTERVAL_S = 5;

export = function (RED: NodeAPI): void {
  function RtcpStats(this: RtcpStatsNode, def: RtcpStatsDef): void {
    RED.nodes.createNode(this, def);
    // Node-RED's constructor style: the node object is captured by the handlers below
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const camera = findCamera(RED, node, def.camera);
    if (!camera) return;
    const interval = numberField(def.interval, 0, 86400, DEFAULT_INTERVAL_S);
    let timer: NodeJS.Timeout | null = null;

    const user = cameraUser(node, camera, { status: (s: NodeStatus) => node.status(s) });
    camera.register(user);
    let prev: Sample = sampleOf(camera.stats(), Date.now());

    const next = (): RtcpStatsPayload => {
      const r = statsPayload(camera.stats(), prev, Date.now());
      prev = r.sample;
      return r.payload;
    };

    if (interval > 0) {
      timer = setInterval(() => {
        const msg: NodeMessage = { payload: next(), topic: camera.topic };
        node.send(msg);
      }, Math.max(100, Math.round(interval * 1000)));
    }

    node.on('input', (msg, send, done) => {
      msg.payload = next();
      msg.topic = camera.topic;
      send(msg);
      done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      timer = null;
      camera.deregister(user, removed, done);
    });
  }

  RED.nodes.registerType<RtcpStatsNode, RtcpStatsDef, object, object>('rtcp stats', RtcpStats);
};
