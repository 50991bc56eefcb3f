/**
 * WS-Discovery target services for the discovery tests (WS-Discovery §5.3, ONVIF Core §7.3.3),
 * on 127.0.0.1 or in a network namespace: each answers a Probe from its source address with
 * ProbeMatches written the way firmware writes them (gSOAP style: SOAP-ENV, wsdd, wsadis, both
 * types; or an old SOAP 1.1 device), and can misbehave on purpose: a wrong RelatesTo, garbage,
 * datagrams over 64 KiB, duplicates, or a flood of distinct devices.
 *
 * Independent of src/onvif: the Probe is read with fast-xml-parser, prefixes removed.
 */
import * as dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { XMLParser } from 'fast-xml-parser';

export interface AnnouncedDevice {
  endpoint: string;
  xaddrs: string[];
  scopes: string[];
}

export interface ResponderOptions {
  devices: AnnouncedDevice[];
  envelope?: 'soap12' | 'soap11';
  /** 'normal', or a misbehaviour */
  mode?: 'normal' | 'wrong-relates' | 'garbage' | 'oversize' | 'flood' | 'silent';
  /** each answer sent this many times (duplicates) */
  repeat?: number;
  /** flood: distinct devices announced per Probe */
  floodCount?: number;
  /** bind address (default 127.0.0.1); '0.0.0.0' to receive multicast */
  bind?: string;
  /** join 239.255.255.250 on these interface addresses */
  multicastOn?: string[];
  port?: number;
}

const reader = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, processEntities: false, parseTagValue: false });

export function probeMatches(relatesTo: string, d: AnnouncedDevice, envelope: 'soap12' | 'soap11' = 'soap12'): string {
  const env = envelope === 'soap12' ? 'http://www.w3.org/2003/05/soap-envelope' : 'http://schemas.xmlsoap.org/soap/envelope/';
  return `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="${env}" xmlns:wsadis="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsdd="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">
<SOAP-ENV:Header><wsadis:MessageID>uuid:${Math.random().toString(16).slice(2)}</wsadis:MessageID><wsadis:RelatesTo>${relatesTo}</wsadis:RelatesTo>
<wsadis:To SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsadis:To>
<wsadis:Action SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsadis:Action></SOAP-ENV:Header>
<SOAP-ENV:Body><wsdd:ProbeMatches><wsdd:ProbeMatch><wsadis:EndpointReference><wsadis:Address>${d.endpoint}</wsadis:Address></wsadis:EndpointReference>
<wsdd:Types>dn:NetworkVideoTransmitter tds:Device</wsdd:Types><wsdd:Scopes>${d.scopes.join(' ')}</wsdd:Scopes><wsdd:XAddrs>${d.xaddrs.join(' ')}</wsdd:XAddrs>
<wsdd:MetadataVersion>1</wsdd:MetadataVersion></wsdd:ProbeMatch></wsdd:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

export class DiscoveryResponder {
  probes = 0;
  sent = 0;
  port = 0;
  private readonly socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });

  constructor(private readonly o: ResponderOptions) {
    this.socket.on('message', (m, r) => this.onProbe(m, r));
    this.socket.on('error', () => { /* keep going */ });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.socket.bind(this.o.port ?? 0, this.o.bind ?? '127.0.0.1', () => resolve()));
    this.port = (this.socket.address() as AddressInfo).port;
    for (const i of this.o.multicastOn ?? []) this.socket.addMembership('239.255.255.250', i);
    return this;
  }

  private send(buf: Buffer, r: dgram.RemoteInfo): void {
    this.sent++;
    this.socket.send(buf, r.port, r.address);
  }

  private onProbe(msg: Buffer, r: dgram.RemoteInfo): void {
    let id = '';
    try {
      const j = reader.parse(msg.toString('utf8')) as { Envelope?: { Header?: { MessageID?: string }; Body?: { Probe?: unknown } } };
      if (j.Envelope?.Body?.Probe === undefined) return;
      id = String(j.Envelope.Header?.MessageID ?? '');
    } catch { return; }
    this.probes++;
    const mode = this.o.mode ?? 'normal';
    if (mode === 'silent') return;
    if (mode === 'garbage') { this.send(Buffer.from('<<<not xml>>> \u0000\u0001'), r); this.send(Buffer.from('<a><b></a>'), r); return; }
    if (mode === 'oversize') {
      const big = probeMatches(id, { endpoint: 'urn:uuid:big', xaddrs: ['http://10.0.0.1/onvif/device_service'], scopes: ['onvif://www.onvif.org/name/' + 'x'.repeat(64000)] });
      this.send(Buffer.from(big), r);
      return;
    }
    if (mode === 'flood') {
      for (let i = 0; i < (this.o.floodCount ?? 1000); i++) {
        this.send(Buffer.from(probeMatches(id, { endpoint: `urn:uuid:flood-${i}`, xaddrs: [`http://10.9.${i >> 8}.${i & 255}/onvif/device_service`], scopes: [`onvif://www.onvif.org/name/flood${i}`] })), r);
      }
      return;
    }
    const relates = mode === 'wrong-relates' ? 'urn:uuid:someone-else' : id;
    for (let k = 0; k < (this.o.repeat ?? 1); k++) {
      for (const d of this.o.devices) this.send(Buffer.from(probeMatches(relates, d, this.o.envelope)), r);
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => { try { this.socket.close(() => resolve()); } catch { resolve(); } });
  }
}
