/**
 * SOAP envelopes and faults (src/onvif/wire/soap.ts) and the WS-Security UsernameToken
 * (src/onvif/wire/ws-security.ts): faults map to the camera reasons users know (ONVIF Core
 * §5.8.2), the password digest matches a published example and an independent computation.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { buildEnvelope, buildFault, faultError, faultReason, parseSoap } from '../../src/onvif/wire/soap';
import { formatCreated, passwordDigest, usernameTokenHeader, verifyUsernameToken } from '../../src/onvif/wire/ws-security';
import { CameraError } from '../../src/errors';
import { fault as emulatedFault } from '../peers/onvif-xml-writer';

const ENV = 'http://www.w3.org/2003/05/soap-envelope';

describe('onvif/wire/soap', () => {
  test('buildEnvelope writes a SOAP 1.2 envelope an independent parser reads', () => {
    const xml = buildEnvelope('<tds:GetDeviceInformation xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/>', '<h:X xmlns:h="urn:h">1</h:X>');
    const j = new XMLParser({ removeNSPrefix: true }).parse(xml) as Record<string, Record<string, unknown>>;
    assert.ok(j['Envelope']!['Header']);
    assert.ok('GetDeviceInformation' in (j['Envelope']!['Body'] as object));
    assert.match(xml, /xmlns:s="http:\/\/www\.w3\.org\/2003\/05\/soap-envelope"/);
  });

  test('a reply: the first element of the Body, the Header, no fault', () => {
    const r = parseSoap(`<e:Envelope xmlns:e="${ENV}"><e:Header><a/></e:Header><e:Body><x:R xmlns:x="urn:x"/></e:Body></e:Envelope>`);
    assert.equal(r.body?.name, 'R');
    assert.equal(r.header?.children.length, 1);
    assert.equal(r.fault, null);
  });

  test('faults in every emulated namespace style map to the same reasons', () => {
    for (const style of ['gsoap', 'axis', 'default-ns', 'odd'] as const) {
      const na = parseSoap(emulatedFault(style, 'Sender', ['NotAuthorized'], 'Sender not Authorized'));
      assert.equal(na.fault && faultReason(na.fault), 'auth failed', style);
      const ns = parseSoap(emulatedFault(style, 'Receiver', ['ActionNotSupported'], 'Optional Action Not Implemented'));
      assert.equal(ns.fault && faultReason(ns.fault), 'not found', style);
      const np = parseSoap(emulatedFault(style, 'Sender', ['InvalidArgVal', 'NoProfile'], 'no such profile'));
      assert.equal(np.fault && faultReason(np.fault), 'not found', style);
      assert.deepEqual(np.fault?.subcodes.map((q) => q.local), ['InvalidArgVal', 'NoProfile']);
      const other = parseSoap(emulatedFault(style, 'Receiver', ['Action', 'TooManySubscriptions'], 'busy'));
      assert.equal(other.fault && faultReason(other.fault), 'protocol error', style);
    }
  });

  test('WS-Security faults and ResourceUnknownFault', () => {
    const wsse = parseSoap(`<s:Envelope xmlns:s="${ENV}"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value xmlns:w="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">w:FailedAuthentication</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">bad</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`);
    assert.equal(wsse.fault && faultReason(wsse.fault), 'auth failed');
    const gone = parseSoap(`<s:Envelope xmlns:s="${ENV}"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text>x</s:Text></s:Reason><s:Detail><r:ResourceUnknownFault xmlns:r="http://docs.oasis-open.org/wsrf/rw-2"/></s:Detail></s:Fault></s:Body></s:Envelope>`);
    assert.equal(gone.fault && faultReason(gone.fault), 'session expired');
  });

  test('a SOAP 1.1 fault from old firmware, and a subcode whose prefix the device forgot to declare', () => {
    const old = parseSoap('<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault><faultcode xmlns:ter="http://www.onvif.org/ver10/error">ter:NotAuthorized</faultcode><faultstring>no</faultstring></S:Fault></S:Body></S:Envelope>');
    assert.equal(old.fault && faultReason(old.fault), 'auth failed');
    assert.equal(old.fault?.reason, 'no');
    const sloppy = parseSoap(`<s:Envelope xmlns:s="${ENV}"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode></s:Code></s:Fault></s:Body></s:Envelope>`);
    assert.equal(sloppy.fault && faultReason(sloppy.fault), 'auth failed');
  });

  test('faultError names the operation; buildFault round-trips', () => {
    const f = parseSoap(buildFault('Sender', ['ter:NotAuthorized'], 'Sender not Authorized')).fault!;
    const e = faultError('GetProfiles', f);
    assert.ok(e instanceof CameraError);
    assert.equal(e.reason, 'auth failed');
    assert.equal(e.message, 'GetProfiles: SOAP fault Sender/NotAuthorized: Sender not Authorized');
  });

  test('not an envelope, or no Body: protocol error', () => {
    assert.throws(() => parseSoap('<html><body>login</body></html>'), /not a SOAP envelope/);
    assert.throws(() => parseSoap(`<s:Envelope xmlns:s="${ENV}"/>`), /without a Body/);
  });
});

describe('onvif/wire/ws-security', () => {
  test('password digest: the published ONVIF client example, and SHA-1 computed independently', () => {
    // nonce, created and password of a UsernameToken example widely quoted for ONVIF clients
    const nonce = Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64');
    assert.equal(passwordDigest(nonce, '2010-09-16T07:50:45Z', 'userpassword'), 'tuOSpGlFlIXsozq4HFNeeGeFLEI=');
    const mine = createHash('sha1').update(nonce).update('2024-02-29T23:59:59Z').update('pä$s').digest('base64');
    assert.equal(passwordDigest(nonce, '2024-02-29T23:59:59Z', 'pä$s'), mine);
  });

  test('Created is written in the device clock, whole seconds, UTC', () => {
    assert.equal(formatCreated(Date.UTC(2024, 4, 1, 12, 0, 0, 999)), '2024-05-01T12:00:00Z');
    const hourOff = Date.UTC(2024, 4, 1, 12, 0, 0) + 3600_000;
    const h = usernameTokenHeader('admin', 'x', hourOff, Buffer.alloc(16, 7));
    assert.match(h, /<wsu:Created>2024-05-01T13:00:00Z<\/wsu:Created>/);
    assert.match(h, /<wsse:Nonce EncodingType="[^"]+#Base64Binary">BwcHBwcHBwcHBwcHBwcHBw==<\/wsse:Nonce>/);
  });

  test('the token is escaped, and verified (digest, wrong password, stale, missing, plain text)', () => {
    const now = Date.UTC(2024, 0, 1);
    const header = (xml: string) => parseSoap(buildEnvelope('<b/>', xml)).header;
    const tok = usernameTokenHeader('a<d>&min', 'p"w', now, Buffer.alloc(16, 1));
    assert.match(tok, /<wsse:Username>a&lt;d&gt;&amp;min<\/wsse:Username>/);
    const expect = { username: 'a<d>&min', password: 'p"w', deviceNowMs: now };
    assert.equal(verifyUsernameToken(header(tok), expect), 'ok');
    assert.equal(verifyUsernameToken(header(tok), { ...expect, password: 'other' }), 'wrong user or password');
    assert.equal(verifyUsernameToken(header(tok), { ...expect, deviceNowMs: now + 3600_000 }), 'stale');
    assert.equal(verifyUsernameToken(header(''), expect), 'missing');
    const plain = '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken>' +
      '<wsse:Username>u</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">pw</wsse:Password></wsse:UsernameToken></wsse:Security>';
    assert.equal(verifyUsernameToken(header(plain), { username: 'u', password: 'pw', deviceNowMs: now }), 'ok');
  });
});
