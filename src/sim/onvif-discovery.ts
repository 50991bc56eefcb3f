/**
 * The demo camera's WS-Discovery target service (ONVIF Core §7, WS-Discovery §5.3): listens on
 * UDP 3702 (or another port) for Probes, multicast to 239.255.255.250 on the camera's interface
 * and unicast, and answers each matching Probe with a ProbeMatches to its source address.
 * Answers are rate-limited, so a flood of Probes cannot turn the demo camera into an amplifier.
 */
import * as dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { buildProbeMatches, DISCOVERY_ADDRESS, parseProbe, probeMatchesDevice, type DeviceAnnouncement } from '../onvif/wire/discovery-messages';

const MAX_ANSWERS_PER_SECOND = 50;

export class DemoDiscoveryResponder {
  port = 0;
  probes = 0;
  answered = 0;
  private readonly socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  private windowStart = 0;
  private inWindow = 0;

  constructor(private readonly device: () => DeviceAnnouncement, private readonly interfaces: string[]) {
    this.socket.on('message', (m, r) => this.onProbe(m, r));
    this.socket.on('error', () => { /* a bad datagram or an ICMP error: keep serving */ });
  }

  async start(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, () => { this.socket.removeListener('error', reject); resolve(); });
    });
    this.port = (this.socket.address() as AddressInfo).port;
    for (const i of this.interfaces) {
      try { this.socket.addMembership(DISCOVERY_ADDRESS, i); } catch { /* an interface without multicast: unicast still works */ }
    }
  }

  private onProbe(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length > 65536) return;
    let probe;
    try { probe = parseProbe(msg.toString('utf8')); } catch { return; }
    if (!probe) return;
    this.probes++;
    const device = this.device();
    if (!probeMatchesDevice(probe, device)) return;
    const now = Date.now();
    if (now - this.windowStart >= 1000) { this.windowStart = now; this.inWindow = 0; }
    if (this.inWindow++ >= MAX_ANSWERS_PER_SECOND) return;
    this.answered++;
    this.socket.send(Buffer.from(buildProbeMatches(probe.messageId, device), 'utf8'), rinfo.port, rinfo.address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try { this.socket.close(() => resolve()); } catch { resolve(); }
    });
  }
}
