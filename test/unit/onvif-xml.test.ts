/**
 * src/onvif/wire/xml.ts: namespace resolution (XML Namespaces 1.0 §5) whatever the prefixes,
 * entity handling (predefined entities and character references decoded, no DTD at all),
 * and the bounds on size, depth and element count.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { child, decodeXmlText, escapeXml, find, parseXml, resolveQName, textAt } from '../../src/onvif/wire/xml';
import { CameraError } from '../../src/errors';

const TT = 'http://www.onvif.org/ver10/schema';
const V = 'urn:vendor';

const refused = (fn: () => unknown, re: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof CameraError && e.reason === 'protocol error' && re.test(e.message));
};

describe('onvif/wire/xml', () => {
  test('the same document with three prefix styles gives the same tree', () => {
    const a = `<s:E xmlns:s="urn:soap" xmlns:tt="${TT}"><tt:Name>n</tt:Name></s:E>`;
    const b = `<E xmlns="urn:soap"><Name xmlns="${TT}">n</Name></E>`;
    const c = `<ns0:E xmlns:ns0="urn:soap"><ns7:Name xmlns:ns7="${TT}">n</ns7:Name></ns0:E>`;
    for (const doc of [a, b, c]) {
      const root = parseXml(doc);
      assert.equal(root.ns, 'urn:soap');
      assert.equal(root.name, 'E');
      assert.equal(child(root, TT, 'Name')?.text, 'n');
    }
  });

  test('a prefix re-bound in a subtree: elements match by namespace URI, never by prefix', () => {
    const doc = `<r xmlns:tt="${V}"><tt:Encoding>H265</tt:Encoding><inner xmlns:tt="${TT}"><tt:Encoding>JPEG</tt:Encoding></inner><tt:Encoding>H264</tt:Encoding></r>`;
    const root = parseXml(doc);
    assert.equal(child(root, TT, 'Encoding'), undefined, 'no ONVIF Encoding directly under the root');
    assert.equal(child(root, V, 'Encoding')?.text, 'H265');
    assert.equal(textAt(root, ['', 'inner'], [TT, 'Encoding']), 'JPEG');
    assert.equal(find(root, TT, 'Encoding')?.text, 'JPEG');
  });

  test('default namespace applies to elements, not to unprefixed attributes', () => {
    const root = parseXml('<a xmlns="urn:x" token="t1" xml:lang="en"><b/></a>');
    assert.equal(root.ns, 'urn:x');
    assert.equal(root.attrs['token'], 't1');
    assert.equal(root.attrs['lang'], 'en');
    assert.equal(root.children[0]!.ns, 'urn:x');
  });

  test('an undeclared prefix resolves to no namespace (matches nothing ONVIF)', () => {
    const root = parseXml('<x:a><tt:b>1</tt:b></x:a>');
    assert.equal(root.ns, '');
    assert.equal(child(root, TT, 'b'), undefined);
  });

  test('QName values resolve with the prefixes in scope where they are written', () => {
    const root = parseXml(`<a xmlns:ter="http://www.onvif.org/ver10/error"><v xmlns:p="urn:p">ter:NotAuthorized p:X</v></a>`);
    const v = root.children[0]!;
    assert.deepEqual(resolveQName(v, ' ter:NotAuthorized '), { ns: 'http://www.onvif.org/ver10/error', local: 'NotAuthorized', prefix: 'ter' });
    assert.equal(resolveQName(v, 'p:X').ns, 'urn:p');
    assert.equal(resolveQName(v, 'q:Y').ns, '');
  });

  test('predefined entities, character references and CDATA are decoded; other entities are left as written', () => {
    const root = parseXml('<a u="rtsp://h/s?a=1&amp;b=2">x &lt; y &#65;&#x42; <![CDATA[<raw>]]> &unknown;</a>');
    assert.equal(root.attrs['u'], 'rtsp://h/s?a=1&b=2');
    assert.equal(root.text, 'x < y AB <raw> &unknown;');
    assert.equal(decodeXmlText('&#0; &#xD800; &#1114112; &amp;amp;'), '&#0; &#xD800; &#1114112; &amp;');
  });

  test('escapeXml round-trips through the parser and drops control characters XML cannot carry', () => {
    const s = `a<b>&"'\u0001\u0009z`;
    assert.equal(parseXml(`<a v="${escapeXml(s)}">${escapeXml(s)}</a>`).text, `a<b>&"'\u0009z`.trim());
  });

  test('a document type declaration is refused before parsing: no entity expansion bomb', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>';
    refused(() => parseXml(bomb), /document type declaration/);
  });

  test('depth, size and element-count bounds give a clear error', () => {
    refused(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100)), /nested|not well-formed/);
    refused(() => parseXml(`<a>${'x'.repeat(2000)}</a>`, 'reply', { maxChars: 1000 }), /2007 characters, more than the 1000 accepted/);
    refused(() => parseXml(`<a>${'<b/>'.repeat(200)}</a>`, 'reply', { maxElements: 100 }), /more than 100 elements/);
  });

  test('malformed, truncated and rootless text is refused', () => {
    refused(() => parseXml('<a><b></a>'), /not well-formed/);
    refused(() => parseXml('<a><b>text'), /not well-formed/);
    refused(() => parseXml('no xml here'), /root element|well-formed/);
    refused(() => parseXml('<a/><b/>'), /root|well-formed/);
    refused(() => parseXml('<__proto__/>'), /.+/);
  });
});
