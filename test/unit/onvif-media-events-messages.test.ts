/**
 * Media profiles and URIs (src/onvif/wire/media-messages.ts), the JPEG profile choice
 * (src/onvif/jpeg-profile.ts), device-service messages (wire/device-messages.ts) and the event
 * messages (wire/event-messages.ts), read from replies in every emulated namespace style and
 * from the ONVIF Core §9.10 example.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseSoap } from '../../src/onvif/wire/soap';
import { parseProfiles, parseUri, normalizeEncoding, getStreamUriBody } from '../../src/onvif/wire/media-messages';
import { chooseJpegProfile, describeOffers } from '../../src/onvif/jpeg-profile';
import { parseCapabilities, parseServices, parseSystemDateAndTime } from '../../src/onvif/wire/device-messages';
import {
  addressingHeader, normalizeTopic, notificationState, parseCreatePullPointSubscriptionResponse, parsePullMessagesResponse, parseXsdDateTime,
} from '../../src/onvif/wire/event-messages';
import { parseXml } from '../../src/onvif/wire/xml';
import { envelope, qname, x, type Style } from '../peers/onvif-xml-writer';

const STYLES: Style[] = ['gsoap', 'axis', 'default-ns', 'odd'];
const body = (xml: string) => parseSoap(xml).body;
const prof = (token: string, encoding: string | null, width: number | null, height: number | null) => ({ token, name: token, encoding, width, height, fps: 25 });

describe('media messages and the JPEG profile', () => {
  test('Media GetProfiles in every namespace style (the vendor Encoding element in the odd style is not read)', () => {
    for (const s of STYLES) {
      const res = envelope(s, [x('trt', 'GetProfilesResponse',
        x('trt', 'Profiles', { token: 'p1', fixed: 'true' }, x('tt', 'Name', 'main'),
          x('tt', 'VideoEncoderConfiguration', { token: 'v1' }, s === 'odd' ? x('vendor', 'Encoding', 'H265') : null, x('tt', 'Encoding', 'JPEG'),
            x('tt', 'Resolution', x('tt', 'Width', '1280'), x('tt', 'Height', '720')), x('tt', 'RateControl', x('tt', 'FrameRateLimit', '12.5')))),
        x('trt', 'Profiles', { token: 'audio' }, x('tt', 'Name', 'audio only')))]);
      assert.deepEqual(parseProfiles(1, body(res)), [
        { token: 'p1', name: 'main', encoding: 'JPEG', width: 1280, height: 720, fps: 12.5 },
        { token: 'audio', name: 'audio only', encoding: null, width: null, height: null, fps: null },
      ], s);
    }
  });

  test('Media 2 GetProfiles (Configurations/VideoEncoder) and both URI reply forms', () => {
    const res = envelope('gsoap', [x('tr2', 'GetProfilesResponse', x('tr2', 'Profiles', { token: 'P' }, x('tr2', 'Name', 'n'),
      x('tr2', 'Configurations', x('tr2', 'VideoEncoder', { token: 'e' }, x('tt', 'Encoding', 'H265'),
        x('tt', 'Resolution', x('tt', 'Width', '3840'), x('tt', 'Height', '2160')), x('tt', 'RateControl', x('tt', 'FrameRateLimit', '20'))))))]);
    assert.deepEqual(parseProfiles(2, body(res)), [{ token: 'P', name: 'n', encoding: 'H265', width: 3840, height: 2160, fps: 20 }]);
    const u2 = envelope('odd', [x('tr2', 'GetStreamUriResponse', x('tr2', 'Uri', 'rtsp://h/a?b=1&c=2'))]);
    assert.equal(parseUri(2, body(u2)), 'rtsp://h/a?b=1&c=2');
    const u1 = envelope('default-ns', [x('trt', 'GetSnapshotUriResponse', x('trt', 'MediaUri', x('tt', 'Uri', 'http://h/snap.jpg'), x('tt', 'Timeout', 'PT0S')))]);
    assert.equal(parseUri(1, body(u1)), 'http://h/snap.jpg');
    assert.equal(parseUri(1, body(envelope('gsoap', [x('trt', 'GetStreamUriResponse', x('trt', 'MediaUri', x('tt', 'Uri', 'not a uri')))]))), null);
  });

  test('GetStreamUri asks for RTP unicast over RTSP (Media §5.15.1, Media 2 §5.4.1)', () => {
    const m1 = parseXml(getStreamUriBody(1, 'a&b'));
    assert.equal(m1.children[0]!.children[0]!.text, 'RTP-Unicast');
    assert.equal(m1.children[0]!.children[1]!.children[0]!.text, 'RTSP');
    assert.equal(m1.children[1]!.text, 'a&b');
    assert.equal(parseXml(getStreamUriBody(2, 'x')).children[0]!.text, 'RtspUnicast');
  });

  test('the largest JPEG profile by default, within a limit when one is set', () => {
    const list = [prof('h', 'H264', 1920, 1080), prof('j1', 'JPEG', 640, 480), prof('j2', 'JPEG', 1280, 720), prof('j3', 'JPEG', 1280, 720)];
    assert.equal(chooseJpegProfile(list).profile?.token, 'j2');
    assert.equal(chooseJpegProfile(list, { maxWidth: 800 }).profile?.token, 'j1');
    const none = chooseJpegProfile(list, { maxWidth: 320, maxHeight: 240 });
    assert.equal(none.profile, null);
    assert.match(none.reason ?? '', /^no Motion-JPEG profile within 320x240: the camera offers H264 1920x1080, JPEG 640x480, JPEG 1280x720;/);
  });

  test('an H.264-only camera gets the reason users are told to expect', () => {
    const r = chooseJpegProfile([prof('a', 'H264', 1920, 1080), prof('b', 'H264', 640, 360), prof('c', 'H264', 640, 360)]);
    assert.equal(r.reason, 'no Motion-JPEG profile: the camera offers H264 1920x1080, H264 640x360; enable MJPEG on a sub-stream in its web page');
    assert.equal(describeOffers([prof('x', null, null, null)]), '');
    assert.match(chooseJpegProfile([]).reason ?? '', /lists no video profile/);
    assert.equal(normalizeEncoding(' mjpeg '), 'JPEG');
  });
});

describe('device messages', () => {
  test('GetSystemDateAndTime: UTCDateTime in every style; a reply without it gives null', () => {
    for (const s of STYLES) {
      const res = envelope(s, [x('tds', 'GetSystemDateAndTimeResponse', x('tds', 'SystemDateAndTime', x('tt', 'UTCDateTime',
        x('tt', 'Time', x('tt', 'Hour', '23'), x('tt', 'Minute', '5'), x('tt', 'Second', '9')), x('tt', 'Date', x('tt', 'Year', '2024'), x('tt', 'Month', '2'), x('tt', 'Day', '29')))))]);
      assert.equal(parseSystemDateAndTime(body(res)), Date.UTC(2024, 1, 29, 23, 5, 9), s);
    }
    assert.equal(parseSystemDateAndTime(body(envelope('gsoap', [x('tds', 'GetSystemDateAndTimeResponse', x('tds', 'SystemDateAndTime'))]))), null);
  });

  test('GetServices by namespace; GetCapabilities as the older fallback', () => {
    const svc = (ns: string, u: string) => x('tds', 'Service', x('tds', 'Namespace', ns), x('tds', 'XAddr', u));
    const res = envelope('axis', [x('tds', 'GetServicesResponse', svc('http://www.onvif.org/ver20/media/wsdl', 'http://h/m2'),
      svc('http://www.onvif.org/ver10/events/wsdl', 'http://h/ev'), svc('http://www.onvif.org/ver20/ptz/wsdl', 'http://h/ptz'), svc('http://www.onvif.org/ver10/media/wsdl', 'javascript:x'))]);
    assert.deepEqual(parseServices(body(res)), { device: null, media: null, media2: 'http://h/m2', events: 'http://h/ev' });
    const caps = envelope('default-ns', [x('tds', 'GetCapabilitiesResponse', x('tds', 'Capabilities', x('tt', 'Media', x('tt', 'XAddr', 'http://h/media')), x('tt', 'Events', x('tt', 'XAddr', 'http://h/events'))))]);
    assert.deepEqual(parseCapabilities(body(caps)), { device: null, media: 'http://h/media', media2: null, events: 'http://h/events' });
  });
});

describe('event messages', () => {
  // ONVIF Core §9.10.6 PullMessagesResponse (times without a zone, topic on its own lines)
  const CORE_EXAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
  <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"
    xmlns:wstop="http://docs.oasis-open.org/wsn/t-1" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tet="http://www.onvif.org/ver10/events/wsdl"
    xmlns:tns1="http://www.onvif.org/ver10/topics" xmlns:tt="http://www.onvif.org/ver10/schema">
    <SOAP-ENV:Header><wsa:Action>http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesResponse</wsa:Action></SOAP-ENV:Header>
    <SOAP-ENV:Body><tet:PullMessagesResponse><tet:CurrentTime>2008-10-10T12:24:58</tet:CurrentTime><tet:TerminationTime>2008-10-10T12:25:58</tet:TerminationTime>
      <wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">
            tns1:RuleEngine/LineDetector/Crossed
          </wsnt:Topic><wsnt:Message><tt:Message UtcTime="2008-10-10T12:24:57.321Z"><tt:Source>
        <tt:SimpleItem Name="VideoSource" Value="1"/><tt:SimpleItem Name="AnalyticsConfiguration" Value="2"/><tt:SimpleItem Value="MyImportantFence1" Name="Rule"/>
      </tt:Source><tt:Data><tt:SimpleItem Name="ObjectId" Value="15" /></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>
    </tet:PullMessagesResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>`;

  test('the Core §9.10.6 example: topic, times (no zone = UTC), Source and Data items', () => {
    const r = parsePullMessagesResponse(body(CORE_EXAMPLE));
    assert.equal(r.currentTime, Date.UTC(2008, 9, 10, 12, 24, 58));
    assert.equal(r.terminationTime! - r.currentTime!, 60000);
    assert.deepEqual(r.messages, [{
      topic: 'tns1:RuleEngine/LineDetector/Crossed', utcTime: Date.UTC(2008, 9, 10, 12, 24, 57, 321), operation: null,
      source: { VideoSource: '1', AnalyticsConfiguration: '2', Rule: 'MyImportantFence1' }, data: { ObjectId: '15' },
    }]);
    assert.equal(notificationState(r.messages[0]!), '15');
  });

  test('topics: any prefix bound to the ONVIF topic namespace reads as tns1; vendor segments keep theirs', () => {
    const t = parseXml('<wsnt:Topic xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:ns3="http://www.onvif.org/ver10/topics" xmlns:tnsaxis="http://www.axis.com/2009/event/topics">ns3:VideoSource/tnsaxis:DayNightVision</wsnt:Topic>');
    assert.equal(normalizeTopic(t), 'tns1:VideoSource/tnsaxis:DayNightVision');
  });

  test('a motion property event, an ElementItem, the state, and bounded items', () => {
    const res = envelope('odd', [x('tev', 'PullMessagesResponse', x('tev', 'CurrentTime', '2024-01-01T00:00:00Z'), x('tev', 'TerminationTime', '2024-01-01T00:01:00Z'),
      x('wsnt', 'NotificationMessage', x('wsnt', 'Topic', qname('odd', 'tns1', 'RuleEngine/CellMotionDetector/Motion')),
        x('wsnt', 'Message', x('tt', 'Message', { UtcTime: '2024-01-01T00:00:00.5Z', PropertyOperation: 'Changed' },
          x('tt', 'Source', x('tt', 'SimpleItem', { Name: 'VideoSourceConfigurationToken', Value: 'vsc' })),
          x('tt', 'Key', x('tt', 'SimpleItem', { Name: 'Id', Value: '7' })),
          x('tt', 'Data', x('tt', 'SimpleItem', { Name: 'IsMotion', Value: 'true' }), x('tt', 'ElementItem', { Name: 'Box' }, x('tt', 'Rect', { x: '1' }, x('tt', 'W', '5'))),
            ...Array.from({ length: 100 }, (_, i) => x('tt', 'SimpleItem', { Name: `n${i}`, Value: 'v' })))))))]);
    const m = parsePullMessagesResponse(body(res)).messages[0]!;
    assert.equal(m.topic, 'tns1:RuleEngine/CellMotionDetector/Motion');
    assert.equal(m.operation, 'Changed');
    assert.deepEqual(m.source, { VideoSourceConfigurationToken: 'vsc', Id: '7' });
    assert.equal(m.data['IsMotion'], true);
    assert.deepEqual(m.data['Box'], { x: '1', W: '5' });
    assert.equal(Object.keys(m.data).length, 64);
    assert.equal(notificationState(m), true);
  });

  test('CreatePullPointSubscriptionResponse with a reference parameter, echoed as a marked header', () => {
    const res = envelope('axis', [x('tev', 'CreatePullPointSubscriptionResponse', x('tev', 'SubscriptionReference', x('wsa', 'Address', 'http://h/onvif/services'),
      x('wsa', 'ReferenceParameters', x('vendor', 'SubscriptionId', '42'))), x('wsnt', 'CurrentTime', '2024-01-01T00:00:00Z'), x('wsnt', 'TerminationTime', '2024-01-01T00:01:00Z'))]);
    const sub = parseCreatePullPointSubscriptionResponse(body(res))!;
    assert.equal(sub.address, 'http://h/onvif/services');
    assert.equal(sub.terminationTime! - sub.currentTime!, 60000);
    const h = addressingHeader('urn:act', sub.address, sub.referenceParameters, 'urn:uuid:m');
    const hdr = parseXml(`<h xmlns:wsa="urn:other">${h}</h>`);
    const echoed = hdr.children.find((c) => c.name === 'SubscriptionId')!;
    assert.equal(echoed.ns, 'http://www.example.com/vendor/2019/schema');
    assert.equal(echoed.text, '42');
    assert.equal(echoed.attrs['IsReferenceParameter'], 'true');
    assert.equal(hdr.children.find((c) => c.name === 'To')?.text, 'http://h/onvif/services');
    assert.equal(parseCreatePullPointSubscriptionResponse(body(envelope('gsoap', [x('tev', 'CreatePullPointSubscriptionResponse')]))), null);
  });

  test('xsd:dateTime forms', () => {
    assert.equal(parseXsdDateTime('2024-01-01T00:00:00+01:00'), Date.UTC(2023, 11, 31, 23));
    assert.equal(parseXsdDateTime('2024-01-01T00:00'), Date.UTC(2024, 0, 1));
    assert.equal(parseXsdDateTime('yesterday'), null);
  });
});
