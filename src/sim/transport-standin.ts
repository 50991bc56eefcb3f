/**
 * TEMPORARY stand-in for src/rtsp/transport-header.ts (being written by another helper):
 * just enough of RFC 2326 §12.39 for the demo server. Replace with the real module.
 */
export interface TransportSpec {
  protocol: string;
  lowerTransport: 'UDP' | 'TCP';
  unicast: boolean;
  multicast: boolean;
  interleaved?: [number, number];
  clientPort?: [number, number];
}

function range(v: string | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v.trim());
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a + 1;
  return [a, b];
}

export function parseTransport(value: string): TransportSpec[] {
  const out: TransportSpec[] = [];
  for (const part of value.split(',')) {
    const fields = part.split(';').map((s) => s.trim());
    const proto = fields[0] ?? '';
    const pm = /^RTP\/AVP(?:\/(UDP|TCP))?$/i.exec(proto);
    if (!pm) continue;
    const spec: TransportSpec = {
      protocol: proto,
      lowerTransport: (pm[1]?.toUpperCase() ?? 'UDP') as 'UDP' | 'TCP',
      unicast: false,
      multicast: false,
    };
    for (const f of fields.slice(1)) {
      const eq = f.indexOf('=');
      const k = (eq < 0 ? f : f.slice(0, eq)).toLowerCase();
      const v = eq < 0 ? undefined : f.slice(eq + 1);
      if (k === 'unicast') spec.unicast = true;
      else if (k === 'multicast') spec.multicast = true;
      else if (k === 'interleaved') {
        const r = range(v);
        if (r) spec.interleaved = r;
      } else if (k === 'client_port') {
        const r = range(v);
        if (r) spec.clientPort = r;
      }
    }
    out.push(spec);
  }
  return out;
}
