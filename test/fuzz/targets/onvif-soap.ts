/**
 * ONVIF SOAP and WS-Discovery readers (src/onvif/wire/): device replies in every namespace style
 * the emulations write (gSOAP, Axis, default namespaces, odd prefixes), the ONVIF Core §9.10
 * PullMessages example, faults, and ProbeMatches, mutated with an XML dictionary (entities,
 * CDATA, DOCTYPE, prefixes, namespace declarations, deep nesting). One case = one mutated
 * document through parseSoap and every reader of the response element, or through
 * parseProbeMatches.
 *
 * Invariants: the only exception is a CameraError 'protocol error' with a short message; every
 * list read is within its bound; strings are cut to their bounds; topics, URIs and tokens
 * are strings.
 */
import assert from 'node:assert/strict';
import { CameraError } from '../../../src/errors';
import { parseSoap, faultReason } from '../../../src/onvif/wire/soap';
import { parseProfiles, parseUri } from '../../../src/onvif/wire/media-messages';
import { parseCapabilities, parseDeviceInformation, parseServices, parseSystemDateAndTime } from '../../../src/onvif/wire/device-messages';
import { parseCreatePullPointSubscriptionResponse, parsePullMessagesResponse } from '../../../src/onvif/wire/event-messages';
import { parseProbeMatches, parseProbe, MAX_MATCHES_PER_MESSAGE } from '../../../src/onvif/wire/discovery-messages';
import { chooseJpegProfile } from '../../../src/onvif/jpeg-profile';
import { envelope, fault, qname, x, type Style } from '../../peers/onvif-xml-writer';
import { probeMatches } from '../../peers/onvif-discovery-responder';
import type { FuzzTarget } from '../harness';
import { mutate, tokens, type Rng } from '../mutator';

const STYLES: Style[] = ['gsoap', 'axis', 'default-ns', 'odd'];

function seeds(): Buffer[] {
  const out: string[] = [];
  for (const s of STYLES) {
    out.push(envelope(s, [x('trt', 'GetProfilesResponse', x('trt', 'Profiles', { token: 'p1' }, x('tt', 'Name', 'main'),
      x('tt', 'VideoEncoderConfiguration', x('tt', 'Encoding', 'JPEG'), x('tt', 'Resolution', x('tt', 'Width', '640'), x('tt', 'Height', '480')),
        x('tt', 'RateControl', x('tt', 'FrameRateLimit', '15')))))]));
    out.push(envelope(s, [x('tr2', 'GetProfilesResponse', x('tr2', 'Profiles', { token: 'P' }, x('tr2', 'Name', 'n'), x('tr2', 'Configurations',
      x('tr2', 'VideoEncoder', x('tt', 'Encoding', 'H264'), x('tt', 'Resolution', x('tt', 'Width', '1920'), x('tt', 'Height', '1080'))))))]));
    out.push(envelope(s, [x('trt', 'GetStreamUriResponse', x('trt', 'MediaUri', x('tt', 'Uri', 'rtsp://10.0.0.1/s?a=1&b=2')))]));
    out.push(envelope(s, [x('tds', 'GetSystemDateAndTimeResponse', x('tds', 'SystemDateAndTime', x('tt', 'UTCDateTime',
      x('tt', 'Time', x('tt', 'Hour', '1'), x('tt', 'Minute', '2'), x('tt', 'Second', '3')), x('tt', 'Date', x('tt', 'Year', '2024'), x('tt', 'Month', '5'), x('tt', 'Day', '6')))))]));
    out.push(envelope(s, [x('tds', 'GetServicesResponse', x('tds', 'Service', x('tds', 'Namespace', 'http://www.onvif.org/ver20/media/wsdl'), x('tds', 'XAddr', 'http://h/m2')))]));
    out.push(envelope(s, [x('tev', 'CreatePullPointSubscriptionResponse', x('tev', 'SubscriptionReference', x('wsa', 'Address', 'http://h/sub/1'),
      x('wsa', 'ReferenceParameters', x('vendor', 'SubscriptionId', '7'))), x('wsnt', 'CurrentTime', '2024-01-01T00:00:00Z'), x('wsnt', 'TerminationTime', '2024-01-01T00:01:00Z'))]));
    out.push(envelope(s, [x('tev', 'PullMessagesResponse', x('tev', 'CurrentTime', '2024-01-01T00:00:00'), x('wsnt', 'NotificationMessage',
      x('wsnt', 'Topic', qname(s, 'tns1', 'RuleEngine/CellMotionDetector/Motion')), x('wsnt', 'Message', x('tt', 'Message', { UtcTime: '2024-01-01T00:00:00Z', PropertyOperation: 'Changed' },
        x('tt', 'Source', x('tt', 'SimpleItem', { Name: 'Rule', Value: 'r' })), x('tt', 'Data', x('tt', 'SimpleItem', { Name: 'IsMotion', Value: 'true' }))))))]));
    out.push(fault(s, 'Sender', ['NotAuthorized'], 'Sender not Authorized'));
  }
  out.push(probeMatches('urn:uuid:q', { endpoint: 'urn:uuid:d', xaddrs: ['http://10.0.0.1/onvif/device_service'], scopes: ['onvif://www.onvif.org/name/A%20B'] }));
  out.push(probeMatches('urn:uuid:q', { endpoint: 'urn:uuid:d', xaddrs: ['http://h/x'], scopes: [] }, 'soap11'));
  return out.map((t) => Buffer.from(t, 'utf8'));
}

const DICT = tokens('<', '>', '</', '/>', '&amp;', '&lt;', '&#x41;', '&#0;', '&lol;', '<![CDATA[', ']]>', '<!DOCTYPE a [<!ENTITY lol "x">]>',
  '<!--', '-->', '<?xml version="1.0"?>', 'xmlns="', 'xmlns:tt="http://www.onvif.org/ver10/schema"', 'xmlns:s="http://www.w3.org/2003/05/soap-envelope"',
  'tt:', 's:', 'ns0:', '__proto__', 'constructor', '"', "'", '=', ' ', '\u0000', '\u00ff', '<a>'.repeat(40), 'Profiles', 'token="', 'Encoding', 'JPEG', 'Value="');

function checkError(e: unknown): void {
  assert.ok(e instanceof CameraError, `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  assert.equal(e.reason, 'protocol error');
  assert.ok(e.message.length < 400, `message of ${e.message.length} chars`);
}

/** Every reader over one document; throws on a broken invariant. */
export function checkSoapText(text: string): 'ok' | 'refused' {
  try {
    const m = parseSoap(text, 'fuzz');
    if (m.fault) assert.ok(['auth failed', 'not found', 'session expired', 'protocol error'].includes(faultReason(m.fault)));
    for (const v of [1, 2] as const) {
      const ps = parseProfiles(v, m.body);
      assert.ok(ps.length <= 256);
      for (const p of ps) assert.ok(typeof p.token === 'string' && p.token.length > 0 && p.token.length <= 128 && p.name.length <= 128);
      chooseJpegProfile(ps);
      const u = parseUri(v, m.body);
      assert.ok(u === null || (typeof u === 'string' && u.length <= 2048));
    }
    parseServices(m.body);
    parseCapabilities(m.body);
    parseDeviceInformation(m.body);
    const t = parseSystemDateAndTime(m.body);
    assert.ok(t === null || Number.isFinite(t));
    const sub = parseCreatePullPointSubscriptionResponse(m.body);
    assert.ok(sub === null || (sub.address.length <= 2048 && sub.referenceParameters.length <= 8));
    const pulled = parsePullMessagesResponse(m.body);
    for (const n of pulled.messages) {
      assert.equal(typeof n.topic, 'string');
      assert.ok(n.topic.length <= 512 && Object.keys(n.data).length <= 64);
    }
  } catch (e) {
    checkError(e);
    return 'refused';
  }
  return 'ok';
}

export function checkDiscoveryText(text: string): 'ok' | 'refused' {
  try {
    const r = parseProbeMatches(text);
    if (r.kind === 'matches') {
      assert.ok(r.matches.length <= MAX_MATCHES_PER_MESSAGE);
      for (const m of r.matches) assert.ok(m.endpoint.length <= 2048 && m.xaddrs.length <= 64 && m.scopes.length <= 64);
    }
    parseProbe(text);
  } catch (e) {
    checkError(e);
    return 'refused';
  }
  return 'ok';
}

export function onvifSoapTarget(): FuzzTarget {
  const all = seeds();
  return {
    name: 'onvif-soap',
    unit: 'one mutated SOAP reply through parseSoap and every ONVIF reader, or one ProbeMatches datagram',
    start() {
      let input: Buffer = Buffer.alloc(0);
      const counts = { ok: 0, refused: 0 };
      return {
        step(rng: Rng) {
          input = mutate(rng, rng.pick(all), { maxLength: 8192, dictionary: DICT, other: rng.pick(all) });
          const text = input.toString('utf8');
          counts[rng.chance(1, 4) ? checkDiscoveryText(text) : checkSoapText(text)]++;
        },
        reproducer: () => input,
        summary: () => `${counts.ok} read, ${counts.refused} refused`,
      };
    },
    replay(input: Buffer) {
      const text = input.toString('utf8');
      checkSoapText(text);
      checkDiscoveryText(text);
    },
  };
}
