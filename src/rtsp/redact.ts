/**
 * Removing credentials from text before it reaches a log, a node status or an error message
 * (other RTSP clients have leaked them into logs this way).
 */

const MASK = '***';

/** encodeURIComponent with lower-case hex digits (some tools write %3a instead of %3A). */
function encodeLower(s: string): string {
  return encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
}

/** Also escape the characters encodeURIComponent keeps but URL userinfo encoders often escape. */
function encodeStrict(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeB64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

/**
 * Replace every occurrence of each secret in `text`: raw, percent-encoded (upper- and lower-case
 * hex; encodeURI's form too), base64 of `a:b` pairs (Basic credentials) and of each secret, and any URL userinfo
 * (`//user:pass@` → `//***@`). `Authorization:` header values are masked too.
 */
export function redactText(text: string, secrets: (string | null | undefined)[]): string {
  if (typeof text !== 'string' || text.length === 0) return typeof text === 'string' ? text : '';
  const list = secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
  const forms = new Set<string>();
  for (const s of list) {
    forms.add(s);
    forms.add(encodeURIComponent(s));
    forms.add(encodeURI(s));
    forms.add(encodeLower(s));
    forms.add(encodeStrict(s));
    forms.add(encodeStrict(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
    forms.add(safeB64(s));
  }
  for (let i = 0; i < list.length; i++) {
    for (let j = 0; j < list.length; j++) {
      if (i === j) continue;
      const pair = safeB64(`${list[i]}:${list[j]}`);
      forms.add(pair);
      forms.add(pair.replace(/=+$/, ''));
    }
  }
  // Longest first, so a secret inside another one does not leave fragments behind.
  const ordered = [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
  let out = text;
  for (const f of ordered) out = out.split(f).join(MASK);
  // URL userinfo up to the last '@' before the path (passwords may hold a raw '@'). After the
  // known secrets: a password pasted unencoded may hold a '/', which ends this match early
  // and would leave its tail behind.
  out = out.replace(/\/\/[^\s/"'<>]*@/g, `//${MASK}@`);
  out = out.replace(/(authorization:[ \t]*)[^\r\n]*/gi, `$1${MASK}`);
  return out;
}

/** A URL with its userinfo replaced by `***` (or the input unchanged when it has none). */
export function redactUrl(url: string): string {
  return typeof url === 'string' ? url.replace(/\/\/[^\s/"'<>]*@/g, `//${MASK}@`) : '';
}
