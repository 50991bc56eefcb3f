/**
 * A separate MQTT subscriber (the `mqtt` npm client) that records what arrives per topic,
 * bounded in count, with arrival times.
 */
import { connectAsync, type MqttClient } from 'mqtt';

export interface Received { payload: Buffer; at: number }

export interface Subscriber {
  readonly client: MqttClient;
  messages(topic: string): Received[];
  close(): Promise<void>;
}

const MAX_PER_TOPIC = 2000;

export async function subscribe(port: number, topics: string[]): Promise<Subscriber> {
  const client = await connectAsync({ host: '127.0.0.1', port, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, clientId: `e2e-sub-${process.pid}-${Date.now()}` });
  const byTopic = new Map<string, Received[]>();
  client.on('message', (topic, payload) => {
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    if (list.length < MAX_PER_TOPIC) list.push({ payload: Buffer.from(payload), at: Date.now() });
  });
  await client.subscribeAsync(topics, { qos: 0 });
  return {
    client,
    messages: (t) => byTopic.get(t) ?? [],
    async close() { await client.endAsync(true); },
  };
}
