/**
 * Credentials pasted into a camera URL (`rtsp://user:pass@host/path`, RFC 3986 §3.2.1
 * userinfo) are moved out of it: the URL is stored and shown clean, the user name and
 * password go to Node-RED's encrypted credential store. The editor does the same split in
 * the browser (nodes/rtsp-camera.html); this is the runtime's safety net for URLs that got
 * through (flows edited by hand, imported, set by the admin API).
 */

export interface SplitUrl {
  /** the URL without userinfo */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
}

/** A host[:port] (IPv4, name or [IPv6]) up to the first '/', '?' or '#'. */
const HOST_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** decodeURIComponent that keeps the raw text when it is not valid percent-encoding
 * (a password like `word%` typed unencoded must survive). */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Splits userinfo out of an rtsp:// / rtsps:// URL. Passwords pasted without percent-encoding
 * may contain '@', ':' and '/': unless the text up to the first '/' is already a plain
 * host[:port], the authority ends at the LAST '@' that is followed by something shaped like
 * host[:port]; the user name ends at the first ':' of the userinfo.
 */
export function splitUrlCredentials(raw: string): SplitUrl {
  const text = raw.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(.*)$/s.exec(text);
  if (!m) return { url: text };
  const scheme = m[1] as string;
  const rest = m[2] as string;
  // the usual case: the authority (up to the first '/') is a plain host[:port], so any '@'
  // later on belongs to the path
  const firstEnd = rest.search(/[/?#]/);
  if (HOST_RE.test(firstEnd < 0 ? rest : rest.slice(0, firstEnd))) return { url: text };
  let at = rest.lastIndexOf('@');
  while (at >= 0) {
    const after = rest.slice(at + 1);
    const end = after.search(/[/?#]/);
    const host = end < 0 ? after : after.slice(0, end);
    if (HOST_RE.test(host)) break;
    at = at > 0 ? rest.lastIndexOf('@', at - 1) : -1;
  }
  if (at < 0) return { url: text };
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const pass = colon < 0 ? undefined : userinfo.slice(colon + 1);
  const out: SplitUrl = { url: scheme + rest.slice(at + 1) };
  if (user !== '') out.username = safeDecode(user);
  if (pass !== undefined) out.password = safeDecode(pass);
  return out;
}

/**
 * Removes every occurrence of the given secrets (raw and percent-encoded) and any URL
 * userinfo from a text meant for a log, a status or a Catch message. The camera layer
 * already redacts; this is a second guard at the edge where text leaves the process.
 */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < 1) continue;
    for (const form of [s, encodeURIComponent(s), encodeURI(s)]) forms.add(form);
  }
  // Longest first (encodeURI keeps most of the raw text, so the raw form must not cut it
  // up first); secrets before the userinfo mask, because a password pasted unencoded may
  // hold a '/' that ends the mask early.
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join('***');
  return out.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#]*@/g, '$1***@');
}
