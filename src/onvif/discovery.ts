/**
 * Finding ONVIF devices with WS-Discovery (ONVIF Core §7): a Probe multicast to
 * 239.255.255.250:3702 from every IPv4 interface that can multicast (IP TTL 1, SOAP-over-UDP
 * 1.1 §3.2.2), and unicast to any host the user names (a camera in another subnet, Node-RED in
 * a container without host networking). Each Probe goes out twice with the same MessageID
 * (SOAP-over-UDP 1.1 Appendix I: a repeat after 50–250 ms), once for dn:NetworkVideoTransmitter
 * and once for tds:Device (ONVIF Core §7.3.2.1; a Probe naming both would only match devices
 * announcing both).
 *
 * ProbeMatches are collected for a bounded time (default 3 s) and de-duplicated by endpoint
 * reference. Bounded in every way a network can misbehave: at most 256 devices, each datagram
 * at most 64 KiB, at most 1024 datagrams and 4 MiB of XML parsed; malformed replies and
 * replies to someone else's Probe are counted, not thrown.
 */
import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { DN, TDS } from './wire/namespaces';
import { buildProbe, DISCOVERY_ADDRESS, DISCOVERY_PORT, newMessageId, parseProbeMatches, scopeInfo, type ProbeMatch, type ProbeType } from './wire/discovery-messages';

export interface DiscoveryHost { host: string; port?: number | undefined }

export interface DiscoveryOptions {
  /** how long replies are collected, ms (default 3000) */
  timeoutMs?: number;
  /** also probe these hosts by unicast (port 3702 unless given) */
  hosts?: DiscoveryHost[];
  /** send the multicast Probe (default true) */
  multicast?: boolean;
  /** IPv4 addresses of the interfaces to multicast from (default: every one that can multicast) */
  interfaces?: string[];
  /** destination port of the multicast Probe (default 3702; tests use their own) */
  multicastPort?: number;
  /** most devices kept (default 256) */
  maxDevices?: number;
  /** largest datagram read (default 65536) */
  maxReplyBytes?: number;
  /** most datagrams read (default 1024) */
  maxDatagrams?: number;
  /** most XML bytes parsed in all (default 4 MiB) */
  maxParseBytes?: number;
}

export interface DiscoveredDevice {
  /** endpoint reference address (a urn:uuid), the device's identity */
  endpoint: string;
  xaddrs: string[];
  scopes: string[];
  types: string[];
  name: string | null;
  hardware: string | null;
  location: string | null;
  /** the address the reply came from */
  address: string;
  /** the device-service URL to use: the XAddr on the address that answered, else the first one */
  deviceUrl: string | null;
}

export interface DiscoveryResult {
  devices: DiscoveredDevice[];
  /** datagrams that were not well-formed SOAP, or too large */
  malformed: number;
  /** well-formed datagrams that were not a ProbeMatches to one of our Probes */
  ignored: number;
  /** datagrams left unread after a bound was reached */
  dropped: number;
  /** the device bound was reached */
  truncated: boolean;
  /** interfaces or hosts that could not be probed, with why */
  problems: string[];
}

const IFF_UP = 0x1;
const IFF_MULTICAST = 0x1000;

/** IPv4 addresses of the interfaces that are up and can multicast (Linux: their flags; elsewhere: all). */
export function multicastInterfaces(): string[] {
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4') continue;
      let capable = true;
      if (!a.internal && process.platform === 'linux') {
        try {
          const flags = Number(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim());
          capable = Number.isFinite(flags) ? (flags & IFF_UP) !== 0 && (flags & IFF_MULTICAST) !== 0 : true;
        } catch { /* no sysfs: assume it can */ }
      }
      // loopback: Linux and BSD deliver multicast on it, which finds a camera emulator or
      // the demo camera on this very host
      if (capable) out.push(a.address);
    }
  }
  return [...new Set(out)];
}

/** "host", "host:port", "[v6]:port" → { host, port }; null when malformed. */
export function parseHostPort(s: string): DiscoveryHost | null {
  const t = s.trim();
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(t);
  if (!m) return null;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function typeText(m: ProbeMatch): string[] {
  return m.types.map((t) => (t.ns === DN ? `dn:${t.local}` : t.ns === TDS ? `tds:${t.local}` : t.local));
}

function chooseXaddr(xaddrs: string[], address: string): string | null {
  const http = xaddrs.filter((x) => /^https?:\/\//i.test(x));
  const onAddress = http.find((x) => { try { return new URL(x).hostname.replace(/^\[|\]$/g, '') === address; } catch { return false; } });
  return onAddress ?? http[0] ?? null;
}

export async function discover(opts: DiscoveryOptions = {}): Promise<DiscoveryResult> {
  const timeoutMs = Math.max(100, Math.min(opts.timeoutMs ?? 3000, 60000));
  const maxDevices = opts.maxDevices ?? 256;
  const maxReply = opts.maxReplyBytes ?? 65536;
  const maxDatagrams = opts.maxDatagrams ?? 1024;
  let parseBudget = opts.maxParseBytes ?? 4 * 1024 * 1024;
  const result: DiscoveryResult = { devices: [], malformed: 0, ignored: 0, dropped: 0, truncated: false, problems: [] };
  const byEndpoint = new Map<string, DiscoveredDevice>();
  const ourIds = new Set<string>();
  const probes: { id: string; xml: Buffer }[] = (['NetworkVideoTransmitter', 'Device'] as ProbeType[]).map((type) => {
    const id = newMessageId();
    ourIds.add(id);
    return { id, xml: Buffer.from(buildProbe(id, type), 'utf8') };
  });
  const sockets: dgram.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  let datagrams = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => { finish = resolve; });

  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (datagrams >= maxDatagrams || parseBudget <= 0) { result.dropped++; return; }
    datagrams++;
    if (msg.length > maxReply) { result.malformed++; return; }
    parseBudget -= msg.length;
    let parsed;
    try {
      parsed = parseProbeMatches(msg.toString('utf8'), maxReply);
    } catch {
      result.malformed++;
      return;
    }
    if (parsed.kind !== 'matches' || (parsed.relatesTo !== null && !ourIds.has(parsed.relatesTo))) { result.ignored++; return; }
    for (const m of parsed.matches) {
      const key = m.endpoint || m.xaddrs[0] || `${rinfo.address}:${rinfo.port}`;
      const known = byEndpoint.get(key);
      if (known) {
        for (const x of m.xaddrs) if (!known.xaddrs.includes(x) && known.xaddrs.length < 16) known.xaddrs.push(x);
        continue;
      }
      if (byEndpoint.size >= maxDevices) { result.truncated = true; finish(); return; }
      const info = scopeInfo(m.scopes);
      byEndpoint.set(key, {
        endpoint: m.endpoint, xaddrs: m.xaddrs.slice(0, 16), scopes: m.scopes, types: typeText(m),
        name: info.name, hardware: info.hardware, location: info.location,
        address: rinfo.address, deviceUrl: chooseXaddr(m.xaddrs, rinfo.address),
      });
    }
  };

  const open = (bindAddress: string | undefined): Promise<dgram.Socket | null> => new Promise((resolve) => {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
    sockets.push(s);
    s.on('message', onMessage);
    let bound = false;
    // a socket error (at bind, or an ICMP error on send) is reported, never thrown
    s.on('error', (e) => {
      result.problems.push(`${bindAddress ?? 'unicast'}: ${e.message}`);
      if (!bound) resolve(null);
    });
    s.bind({ port: 0, address: bindAddress, exclusive: true }, () => { bound = true; resolve(s); });
  });
  // Sends both probes now and once more after 50–250 ms (same MessageIDs: a repeat, not a new probe).
  const sendProbes = (s: dgram.Socket, port: number, address: string, what: string): void => {
    const send = (): void => {
      for (const p of probes) s.send(p.xml, port, address, (e) => { if (e && !result.problems.some((x) => x.startsWith(what))) result.problems.push(`${what}: ${e.message}`); });
    };
    send();
    timers.push(setTimeout(send, 50 + Math.floor(Math.random() * 200)));
  };

  try {
    if (opts.multicast !== false) {
      for (const addr of opts.interfaces ?? multicastInterfaces()) {
        const s = await open(addr);
        if (!s) continue;
        try {
          s.setMulticastInterface(addr);
          s.setMulticastTTL(1);
          s.setMulticastLoopback(true);
        } catch (e) {
          result.problems.push(`${addr}: ${(e as Error).message}`);
          continue;
        }
        sendProbes(s, opts.multicastPort ?? DISCOVERY_PORT, DISCOVERY_ADDRESS, `multicast from ${addr}`);
      }
    }
    const hosts = opts.hosts ?? [];
    if (hosts.length > 0) {
      const s = await open(undefined);
      if (s) {
        for (const h of hosts.slice(0, 64)) {
          try {
            const { address } = await lookup(h.host, { family: 4 });
            sendProbes(s, h.port ?? DISCOVERY_PORT, address, `unicast to ${h.host}`);
          } catch (e) {
            result.problems.push(`unicast to ${h.host}: ${(e as Error).message}`);
          }
        }
      }
    }
    timers.push(setTimeout(finish, timeoutMs));
    await finished;
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const s of sockets) { s.removeAllListeners('message'); try { s.close(); } catch { /* closed */ } }
  }
  result.devices = [...byEndpoint.values()];
  return result;
}
