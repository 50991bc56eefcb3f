/**
 * XML for ONVIF's SOAP and WS-Discovery messages: fast-xml-parser (no native code) reads the
 * text, this module resolves namespaces (XML Namespaces 1.0 §5: a prefix is in scope for the
 * element that declares it and its content; `xmlns="…"` sets the default namespace of
 * elements, never of attributes) and returns a small element tree matched by local name AND
 * namespace URI.
 *
 * Hostile input is refused, not expanded: no document type declaration at all (SOAP 1.2
 * Part 1 §5 forbids them in SOAP messages, and entity expansion "bombs" need one), entity
 * processing off (only the five predefined entities and character references are decoded,
 * which cannot grow the text more than it is already), and bounds on size, nesting depth
 * and element count. Every refusal is a CameraError 'protocol error' with a clear message.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CameraError } from '../../errors';

export interface XmlElement {
  /** namespace URI, '' for none */
  readonly ns: string;
  /** local name (without prefix) */
  readonly name: string;
  /** attributes by local name (namespace declarations left out), values decoded */
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** the character data directly inside the element, decoded and trimmed */
  readonly text: string;
  /** prefixes in scope ('' = the default namespace), for QName values (fault codes, topics) */
  readonly scope: ReadonlyMap<string, string>;
}

export interface XmlLimits {
  /** longest accepted text, in UTF-16 code units (≈ bytes for ASCII XML) */
  maxChars: number;
  /** deepest element nesting */
  maxDepth: number;
  /** most elements in one document */
  maxElements: number;
}

/** A GetProfiles reply of a 32-channel recorder is a few hundred kB; nothing ONVIF sends is deeper than ~20. */
export const DEFAULT_XML_LIMITS: XmlLimits = { maxChars: 1024 * 1024, maxDepth: 64, maxElements: 50000 };

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

function parserFor(maxDepth: number): XMLParser {
  return new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    commentPropName: false,
    cdataPropName: false,
    maxNestedTags: maxDepth,
  });
}

const parsers = new Map<number, XMLParser>();

/** Decodes the predefined entities (XML 1.0 §4.6) and character references (§4.1); leaves anything else as written. */
export function decodeXmlText(s: string): string {
  if (s.indexOf('&') < 0) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const amp = s.indexOf('&', i);
    if (amp < 0) { out += s.slice(i); break; }
    out += s.slice(i, amp);
    const semi = s.indexOf(';', amp + 1);
    if (semi < 0 || semi - amp > 12) { out += '&'; i = amp + 1; continue; }
    const ref = s.slice(amp + 1, semi);
    let ch: string | null = null;
    switch (ref) {
      case 'lt': ch = '<'; break;
      case 'gt': ch = '>'; break;
      case 'amp': ch = '&'; break;
      case 'quot': ch = '"'; break;
      case 'apos': ch = "'"; break;
      default:
        if (ref.startsWith('#')) {
          const hex = ref[1] === 'x' || ref[1] === 'X';
          const digits = ref.slice(hex ? 2 : 1);
          const ok = digits.length > 0 && (hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits);
          const code = ok ? parseInt(digits, hex ? 16 : 10) : NaN;
          if (Number.isInteger(code) && code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)) ch = String.fromCodePoint(code);
        }
    }
    if (ch === null) { out += s.slice(amp, semi + 1); } else { out += ch; }
    i = semi + 1;
  }
  return out;
}

/** Escapes text or an attribute value for XML we write. */
export function escapeXml(s: string): string {
  let out = '';
  for (const c of s) {
    switch (c) {
      case '<': out += '&lt;'; break;
      case '>': out += '&gt;'; break;
      case '&': out += '&amp;'; break;
      case '"': out += '&quot;'; break;
      case "'": out += '&apos;'; break;
      default: {
        const code = c.codePointAt(0)!;
        // XML 1.0 §2.2: control characters other than TAB, LF, CR cannot appear at all
        if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) continue;
        out += c;
      }
    }
  }
  return out;
}

function splitName(qname: string): [prefix: string, local: string] {
  const colon = qname.indexOf(':');
  return colon < 0 ? ['', qname] : [qname.slice(0, colon), qname.slice(colon + 1)];
}

type RawNode = Record<string, unknown>;

function protocolError(message: string): CameraError {
  return new CameraError('protocol error', message);
}

/**
 * Parses one XML document. Throws CameraError('protocol error') when the text is not
 * well-formed, has a DTD, or breaks a limit; `what` names the message for the error text.
 */
export function parseXml(text: string, what = 'reply', limits: Partial<XmlLimits> = {}): XmlElement {
  const lim = { ...DEFAULT_XML_LIMITS, ...limits };
  if (typeof text !== 'string') throw protocolError(`${what}: not text`);
  if (text.length > lim.maxChars) throw protocolError(`${what}: ${text.length} characters, more than the ${lim.maxChars} accepted`);
  if (text.indexOf('<!DOCTYPE') >= 0) throw protocolError(`${what}: has a document type declaration, which SOAP messages must not have (entities are never expanded)`);
  let parser = parsers.get(lim.maxDepth);
  if (!parser) { parser = parserFor(lim.maxDepth); parsers.set(lim.maxDepth, parser); }
  let raw: unknown;
  try {
    raw = parser.parse(text);
  } catch (e) {
    throw protocolError(`${what}: not well-formed XML (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  // the parser tolerates unclosed and mismatched tags; a truncated reply must not pass as a short one
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw protocolError(`${what}: not well-formed XML (${valid.err.msg.slice(0, 200)} at line ${valid.err.line})`);
  const roots = (Array.isArray(raw) ? raw : []).filter((n): n is RawNode => typeof n === 'object' && n !== null && !('#text' in n));
  if (roots.length !== 1) throw protocolError(`${what}: expected one root element, found ${roots.length}`);
  let count = 0;
  const convert = (node: RawNode, parentScope: ReadonlyMap<string, string>, depth: number): XmlElement => {
    if (++count > lim.maxElements) throw protocolError(`${what}: more than ${lim.maxElements} elements`);
    if (depth > lim.maxDepth) throw protocolError(`${what}: nested deeper than ${lim.maxDepth} elements`);
    const tag = Object.keys(node).find((k) => k !== ':@')!;
    const rawAttrs = (node[':@'] ?? {}) as Record<string, unknown>;
    let scope = parentScope;
    for (const [k, v] of Object.entries(rawAttrs)) {
      if (k === 'xmlns' || k.startsWith('xmlns:')) {
        if (scope === parentScope) scope = new Map(parentScope);
        (scope as Map<string, string>).set(k === 'xmlns' ? '' : k.slice(6), decodeXmlText(String(v)));
      }
    }
    const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(rawAttrs)) {
      if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
      attrs[splitName(k)[1]] = decodeXmlText(String(v));
    }
    const [prefix, local] = splitName(tag);
    const ns = prefix === 'xml' ? XML_NS : scope.get(prefix) ?? '';
    const kids: XmlElement[] = [];
    let txt = '';
    const content = node[tag];
    for (const c of Array.isArray(content) ? content : []) {
      if (typeof c !== 'object' || c === null) continue;
      const cn = c as RawNode;
      if ('#text' in cn) txt += String(cn['#text']);
      else kids.push(convert(cn, scope, depth + 1));
    }
    return { ns, name: local, attrs, children: kids, text: decodeXmlText(txt).trim(), scope };
  };
  try {
    return convert(roots[0]!, new Map([['xml', XML_NS]]), 1);
  } catch (e) {
    if (e instanceof CameraError) throw e;
    throw protocolError(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** First direct child with this namespace and local name. */
export function child(el: XmlElement | undefined, ns: string | readonly string[], name: string): XmlElement | undefined {
  if (!el) return undefined;
  return el.children.find((c) => c.name === name && (typeof ns === 'string' ? c.ns === ns : ns.includes(c.ns)));
}

/** Every direct child with this namespace and local name. */
export function children(el: XmlElement | undefined, ns: string | readonly string[], name: string): XmlElement[] {
  if (!el) return [];
  return el.children.filter((c) => c.name === name && (typeof ns === 'string' ? c.ns === ns : ns.includes(c.ns)));
}

/** Follows a path of [namespace, local name] steps from `el`, first match at each step. */
export function path(el: XmlElement | undefined, ...steps: [ns: string | readonly string[], name: string][]): XmlElement | undefined {
  let cur = el;
  for (const [ns, name] of steps) cur = child(cur, ns, name);
  return cur;
}

/** Text of the element at `steps` below `el`, or undefined. */
export function textAt(el: XmlElement | undefined, ...steps: [ns: string | readonly string[], name: string][]): string | undefined {
  return path(el, ...steps)?.text;
}

/** Depth-first search for the first descendant (or `el` itself) with this name. */
export function find(el: XmlElement | undefined, ns: string | readonly string[], name: string): XmlElement | undefined {
  if (!el) return undefined;
  const stack: XmlElement[] = [el];
  while (stack.length > 0) {
    const cur = stack.pop()!;
    if (cur.name === name && (typeof ns === 'string' ? cur.ns === ns : ns.includes(cur.ns))) return cur;
    for (let i = cur.children.length - 1; i >= 0; i--) stack.push(cur.children[i]!);
  }
  return undefined;
}

/** A QName value (`ter:NotAuthorized`, `tns1:RuleEngine/…`) resolved with the prefixes in scope at `el`. */
export function resolveQName(el: XmlElement, value: string): { ns: string; local: string; prefix: string } {
  const v = value.trim();
  const [prefix, local] = splitName(v);
  return { ns: el.scope.get(prefix) ?? '', local, prefix };
}
