/**
 * Example flows as shipped, adapted for a test only where the environment differs: the
 * broker's port (a free one instead of 1883), the camera's URL (the demo camera on an
 * ephemeral port) and, for scale-out, per-camera topics and ids.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './package-tarball';

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export function loadExample(file: string): FlowNode[] {
  return JSON.parse(readFileSync(join(ROOT, 'examples', file), 'utf8')) as FlowNode[];
}

export const MQTT_EXAMPLE = '02 Camera to MQTT.json';

export interface MqttFlowOptions {
  brokerPort: number;
  cameraUrl: string;
  /** replaces `camera/demo/` in the topics */
  topicPrefix?: string;
  /** overrides the `rtsp-mjpeg in` node's maxFps */
  maxFps?: number;
  /** overrides the `rtcp stats` interval (s) */
  statsInterval?: number;
  cameraName?: string;
}

export function mqttExampleFlow(o: MqttFlowOptions): FlowNode[] {
  const flow = loadExample(MQTT_EXAMPLE);
  const one = (type: string): FlowNode[] => {
    const found = flow.filter((n) => n.type === type);
    if (found.length === 0) throw new Error(`example "${MQTT_EXAMPLE}" has no ${type} node`);
    return found;
  };
  for (const b of one('mqtt-broker')) {
    if (b.broker !== '127.0.0.1' && b.broker !== 'localhost') throw new Error(`example broker host is ${String(b.broker)}, expected 127.0.0.1`);
    b.broker = '127.0.0.1';
    b.port = String(o.brokerPort);
  }
  for (const c of one('rtsp-camera')) {
    c.url = o.cameraUrl;
    if (o.cameraName !== undefined) c.name = o.cameraName;
  }
  for (const m of one('mqtt out')) {
    if (o.topicPrefix !== undefined) m.topic = String(m.topic).replace(/^camera\/demo\//, o.topicPrefix);
  }
  if (o.maxFps !== undefined) for (const n of one('rtsp-mjpeg in')) n.maxFps = o.maxFps;
  if (o.statsInterval !== undefined) for (const n of one('rtcp stats')) n.interval = o.statsInterval;
  return onTab(flow, `e2e-${o.topicPrefix ?? 'demo'}`);
}

const CONFIG_TYPES = new Set(['rtsp-camera', 'mqtt-broker', 'tls-config', 'ui-base', 'ui-page', 'ui-group', 'ui-theme']);

/**
 * Puts the flow nodes on a tab, as Import in the editor does: an example file carries no tab,
 * and a node without `z` deployed through the admin API is not started by the runtime.
 */
export function onTab(flow: FlowNode[], label: string): FlowNode[] {
  const tabId = `tab-${label.replace(/[^A-Za-z0-9]/g, '')}`;
  const nodes = flow.map((n) => (CONFIG_TYPES.has(n.type) || n.z ? n : { ...n, z: tabId }));
  return [{ id: tabId, type: 'tab', label, disabled: false, info: '' }, ...nodes];
}

/** Topics the example publishes to, after `mqttExampleFlow` rewrote them. */
export function topicsOf(flow: FlowNode[]): { jpeg: string; stats: string } {
  const outs = flow.filter((n) => n.type === 'mqtt out');
  const byWire = (source: string): string => {
    const src = flow.find((n) => n.type === source);
    const wires = (src?.wires as string[][] | undefined)?.[0] ?? [];
    const out = outs.find((n) => wires.includes(n.id));
    if (!out) throw new Error(`example: ${source} is not wired to an mqtt out node`);
    return String(out.topic);
  };
  return { jpeg: byWire('rtsp-mjpeg in'), stats: byWire('rtcp stats') };
}
