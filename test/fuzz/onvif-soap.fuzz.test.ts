/**
 * Fuzz: ONVIF SOAP replies and WS-Discovery datagrams (src/onvif/wire/). Bulk: mutated replies
 * of every emulated namespace style. Structure-aware: fast-check builds documents with random
 * prefixes, namespace declarations (re-bound in subtrees), entities and nesting, and the readers
 * must find exactly the profiles written in the ONVIF namespaces, whatever the prefixes.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CI_CASES, CI_SEED, formatResult, runFuzz } from './harness';
import { checkSoapText, onvifSoapTarget } from './targets/onvif-soap';
import { parseSoap } from '../../src/onvif/wire/soap';
import { parseProfiles } from '../../src/onvif/wire/media-messages';

const TT = 'http://www.onvif.org/ver10/schema';
const TRT = 'http://www.onvif.org/ver10/media/wsdl';

describe('fuzz: ONVIF SOAP and WS-Discovery readers', () => {
  // A case is a whole XML document through a dozen readers, some forty times the work of an RTP
  // packet: a quarter of CI_CASES keeps this file's run time in line with the others.
  const cases = Math.ceil(CI_CASES / 4);
  test(`bulk: ${cases} mutated ONVIF replies and ProbeMatches`, () => {
    const r = runFuzz(onvifSoapTarget(), cases, CI_SEED);
    console.log(formatResult(r));
    assert.equal(r.cases, cases);
  });

  test('fast-check: profiles are found by namespace whatever the prefixes, defaults and decoys', () => {
    const prefix = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,5}$/).filter((p) => p.toLowerCase() !== 'xml' && !p.toLowerCase().startsWith('xmlns'));
    const value = fc.string({ maxLength: 12, unit: fc.constantFrom(...'ab1 &<>"\''.split('')) });
    const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    const profile = fc.record({ token: value.filter((v) => v.trim().length > 0), w: fc.integer({ min: 1, max: 9999 }), jpeg: fc.boolean(), decoy: fc.boolean(), defaultNs: fc.boolean() });
    fc.assert(fc.property(prefix, prefix, fc.array(profile, { maxLength: 6 }), (pt, pm, list) => {
      fc.pre(pt !== pm && pt !== 'e' && pm !== 'e');
      const body = list.map((p) => {
        const enc = `${p.decoy ? `<${pt}:Encoding xmlns:${pt}="urn:decoy">H265</${pt}:Encoding>` : ''}` +
          (p.defaultNs ? `<Encoding xmlns="${TT}">${p.jpeg ? 'JPEG' : 'H264'}</Encoding>` : `<${pt}:Encoding>${p.jpeg ? 'JPEG' : 'H264'}</${pt}:Encoding>`);
        return `<${pm}:Profiles token="${esc(p.token)}"><${pt}:VideoEncoderConfiguration>${enc}<${pt}:Resolution><${pt}:Width>${p.w}</${pt}:Width>` +
          `<${pt}:Height>1</${pt}:Height></${pt}:Resolution></${pt}:VideoEncoderConfiguration></${pm}:Profiles>`;
      }).join('');
      const doc = `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:${pt}="${TT}" xmlns:${pm}="${TRT}"><e:Body><${pm}:GetProfilesResponse>${body}</${pm}:GetProfilesResponse></e:Body></e:Envelope>`;
      const ps = parseProfiles(1, parseSoap(doc).body);
      const want = list.filter((p) => p.token.trim().length > 0);
      assert.deepEqual(ps.map((p) => [p.token, p.encoding, p.width]), want.map((p) => [p.token.slice(0, 128), p.jpeg ? 'JPEG' : 'H264', p.w]));
      assert.equal(checkSoapText(doc), 'ok');
    }), { numRuns: 1500, seed: CI_SEED });
  });
});
