/**
 * WS-Discovery messages (src/onvif/wire/discovery-messages.ts): our Probe as an independent
 * parser reads it, ProbeMatches as devices write them (WS-Discovery §5.3; ONVIF Core §7.3.3),
 * scopes (Core §7.3.2.2), bounds, and the device side's matching rule.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import {
  buildProbe, buildProbeMatches, MAX_MATCHES_PER_MESSAGE, parseProbe, parseProbeMatches, probeMatchesDevice, scopeInfo,
} from '../../src/onvif/wire/discovery-messages';
import { DN, TDS } from '../../src/onvif/wire/namespaces';

/** gSOAP firmware style: SOAP-ENV, wsdd, wsadis (2004/08 addressing), both types, several XAddrs. */
const GSOAP_MATCH = (relates: string): string => `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:SOAP-ENC="http://www.w3.org/2003/05/soap-encoding"
 xmlns:wsadis="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsdd="http://schemas.xmlsoap.org/ws/2005/04/discovery"
 xmlns:tdn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">
<SOAP-ENV:Header><wsadis:MessageID>uuid:1111d68a-2dd2-21b2-0000-010101010101</wsadis:MessageID>
<wsadis:RelatesTo>${relates}</wsadis:RelatesTo><wsadis:To SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsadis:To>
<wsadis:Action SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsadis:Action></SOAP-ENV:Header>
<SOAP-ENV:Body><wsdd:ProbeMatches><wsdd:ProbeMatch><wsadis:EndpointReference><wsadis:Address>urn:uuid:1111d68a-2dd2-21b2-0000-010101010101</wsadis:Address>
<wsadis:ReferenceProperties/><wsadis:PortType/></wsadis:EndpointReference>
<wsdd:Types>tdn:NetworkVideoTransmitter tds:Device</wsdd:Types>
<wsdd:Scopes>onvif://www.onvif.org/type/NetworkVideoTransmitter onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/hardware/IPC-HDW2431
 onvif://www.onvif.org/name/Front%20Door onvif://www.onvif.org/location/country/china onvif://www.onvif.org/location/city/hangzhou</wsdd:Scopes>
<wsdd:XAddrs>http://192.168.1.108/onvif/device_service http://[fe80::9a:1]/onvif/device_service</wsdd:XAddrs>
<wsdd:MetadataVersion>10</wsdd:MetadataVersion></wsdd:ProbeMatch></wsdd:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>`;

describe('onvif/wire/discovery-messages', () => {
  test('our Probe: SOAP 1.2, WS-Addressing headers, one type each (dn:NetworkVideoTransmitter, tds:Device)', () => {
    const p = new XMLParser({ ignoreAttributes: false, removeNSPrefix: true });
    for (const [type, want] of [['NetworkVideoTransmitter', 'dn:NetworkVideoTransmitter'], ['Device', 'tds:Device']] as const) {
      const xml = buildProbe('urn:uuid:abc', type);
      const j = p.parse(xml) as { Envelope: { Header: Record<string, unknown>; Body: { Probe: { Types: string | { '#text': string } } } } };
      assert.equal((j.Envelope.Header['Action'] as { '#text': string })['#text'], 'http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe');
      assert.equal(j.Envelope.Header['MessageID'], 'urn:uuid:abc');
      assert.equal((j.Envelope.Header['To'] as { '#text': string })['#text'], 'urn:schemas-xmlsoap-org:ws:2005:04:discovery');
      const t = j.Envelope.Body.Probe.Types;
      assert.equal(typeof t === 'string' ? t : t['#text'], want);
      // and the device side of this module reads it with the right namespaces
      const probe = parseProbe(xml)!;
      assert.equal(probe.types[0]!.ns, type === 'Device' ? TDS : DN);
    }
  });

  test('a gSOAP-style ProbeMatches: endpoint, types by namespace, scopes, every XAddr, metadata version', () => {
    const r = parseProbeMatches(GSOAP_MATCH('urn:uuid:ours'));
    assert.equal(r.kind, 'matches');
    if (r.kind !== 'matches') return;
    assert.equal(r.relatesTo, 'urn:uuid:ours');
    const m = r.matches[0]!;
    assert.equal(m.endpoint, 'urn:uuid:1111d68a-2dd2-21b2-0000-010101010101');
    assert.deepEqual(m.types, [{ ns: DN, local: 'NetworkVideoTransmitter' }, { ns: TDS, local: 'Device' }]);
    assert.deepEqual(m.xaddrs, ['http://192.168.1.108/onvif/device_service', 'http://[fe80::9a:1]/onvif/device_service']);
    assert.equal(m.metadataVersion, 10);
    assert.deepEqual(scopeInfo(m.scopes), { name: 'Front Door', hardware: 'IPC-HDW2431', location: 'country/china, city/hangzhou' });
  });

  test('a SOAP 1.1 envelope with WS-Addressing 2005/08 is read too; a Hello or another client\'s Probe is "other"', () => {
    const v11 = GSOAP_MATCH('x').replace(/http:\/\/www\.w3\.org\/2003\/05\/soap-envelope/, 'http://schemas.xmlsoap.org/soap/envelope/')
      .replace('http://schemas.xmlsoap.org/ws/2004/08/addressing"', 'http://www.w3.org/2005/08/addressing"');
    const r = parseProbeMatches(v11);
    assert.equal(r.kind === 'matches' && r.matches.length, 1);
    assert.equal(parseProbeMatches(buildProbe('urn:uuid:x', 'Device')).kind, 'other');
    const hello = GSOAP_MATCH('x').replace(/ProbeMatches<\/wsadis:Action>/, 'Hello</wsadis:Action>').replace(/wsdd:ProbeMatches>/g, 'wsdd:Hello>').replace(/wsdd:ProbeMatch>/g, 'wsdd:HelloX>');
    assert.equal(parseProbeMatches(hello).kind, 'other');
  });

  test('bounded: at most 16 matches per message, long strings cut, not XML thrown', () => {
    const one = '<d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:N</a:Address></a:EndpointReference><d:XAddrs>http://h/onvif/device_service</d:XAddrs></d:ProbeMatch>';
    const many = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Body><d:ProbeMatches>${one.repeat(40)}</d:ProbeMatches></s:Body></s:Envelope>`;
    const r = parseProbeMatches(many);
    assert.equal(r.kind === 'matches' && r.matches.length, MAX_MATCHES_PER_MESSAGE);
    const long = GSOAP_MATCH('x').replace('urn:uuid:1111d68a-2dd2-21b2-0000-010101010101</wsadis:Address>', `${'u'.repeat(5000)}</wsadis:Address>`);
    const lr = parseProbeMatches(long);
    assert.equal(lr.kind === 'matches' && lr.matches[0]!.endpoint.length, 2048);
    assert.throws(() => parseProbeMatches('\u0000\u0001garbage'));
    assert.throws(() => parseProbeMatches(GSOAP_MATCH('x').slice(0, 300)));
  });

  test('the device side: ProbeMatches we write are read back; Probe types and scopes must all match (WS-Discovery §5.3)', () => {
    const device = { endpoint: 'urn:uuid:d', scopes: ['onvif://www.onvif.org/name/x', 'onvif://www.onvif.org/Profile/Streaming'], xaddrs: ['http://127.0.0.1:1/onvif/device_service'],
      types: [['dn', DN, 'NetworkVideoTransmitter'], ['tds', TDS, 'Device']] as [string, string, string][] };
    const r = parseProbeMatches(buildProbeMatches('urn:uuid:q', device));
    assert.ok(r.kind === 'matches' && r.relatesTo === 'urn:uuid:q' && r.matches[0]!.xaddrs[0] === device.xaddrs[0]);
    const probe = (types: { ns: string; local: string }[], scopes: string[] = []) => ({ messageId: 'm', types, scopes });
    assert.ok(probeMatchesDevice(probe([{ ns: DN, local: 'NetworkVideoTransmitter' }]), device));
    assert.ok(probeMatchesDevice(probe([]), device));
    assert.ok(!probeMatchesDevice(probe([{ ns: 'urn:printer', local: 'PrintBasic' }]), device));
    assert.ok(probeMatchesDevice(probe([], ['onvif://www.onvif.org/Profile']), device));
    assert.ok(probeMatchesDevice(probe([], ['ONVIF://www.onvif.org/name/x']), device));
    assert.ok(!probeMatchesDevice(probe([], ['onvif://www.onvif.org/name/xy']), device));
  });
});
