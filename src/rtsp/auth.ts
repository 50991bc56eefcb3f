/**
 * HTTP-style authentication for RTSP (RFC 2326 §16.4 → HTTP): Basic (RFC 7617) and Digest
 * (RFC 2617, RFC 7616: MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256, SHA-512-256-sess).
 *
 * Client side: `Authenticator` picks the strongest supported challenge of a 401, builds the
 * Authorization value for each request and decides when a 401 means "wrong credentials" so
 * the session stops instead of locking the camera account. Server side helpers
 * (`parseAuthorization`, `digestResponse`, `verifyAuthorization`, `digestChallenge`) serve the
 * demo camera and the fake servers in tests.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  /** lower-case scheme: 'basic', 'digest', or another scheme name */
  scheme: 'basic' | 'digest' | string;
  /** lower-case parameter names; quoted values unescaped. A bare token68 lands in `token68`. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

/** Tokenizer over one header value, RFC 7235 §2.1 grammar, tolerant of extra commas and spaces. */
class Scanner {
  i = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.i < this.s.length && (this.s[this.i] === ' ' || this.s[this.i] === '\t')) this.i++;
  }
  eof(): boolean { return this.i >= this.s.length; }
  peek(): string | undefined { return this.s[this.i]; }
  token(): string {
    const from = this.i;
    while (this.i < this.s.length && TOKEN_CHAR.test(this.s[this.i]!)) this.i++;
    return this.s.slice(from, this.i);
  }
  /** quoted-string with backslash escapes (RFC 7230 §3.2.6); an unterminated one runs to the end */
  quoted(): string {
    this.i++; // opening quote
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++]!;
      if (c === '"') return out;
      if (c === '\\' && this.i < this.s.length) out += this.s[this.i++]!;
      else out += c;
    }
    return out;
  }
  /** an unquoted value: everything up to the next comma (tolerates odd characters in the wild) */
  bare(): string {
    const from = this.i;
    while (this.i < this.s.length && this.s[this.i] !== ',') this.i++;
    return this.s.slice(from, this.i).trim();
  }
}

/**
 * Whether the text at the scanner position is `name = value` (a parameter) rather than the
 * start of the next challenge (`Scheme ...`).
 */
function atParam(sc: Scanner): boolean {
  const save = sc.i;
  const name = sc.token();
  sc.ws();
  let isParam = name.length > 0 && sc.peek() === '=';
  if (isParam) {
    // "abc==" is token68 padding, not a parameter "abc" with value "="
    sc.i++;
    sc.ws();
    const next = sc.peek();
    isParam = next !== undefined && next !== '=' && next !== ',';
  }
  sc.i = save;
  return isParam;
}

/**
 * Challenges from one or several WWW-Authenticate values; several challenges may share one value
 * (`Digest realm="a", nonce="b", Basic realm="a"`). Never throws; unparsable text is skipped.
 */
export function parseChallenges(values: string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const sc = new Scanner(value);
    let current: Challenge | null = null;
    let guard = 0;
    while (!sc.eof() && guard++ < value.length + 2) {
      sc.ws();
      if (sc.peek() === ',') { sc.i++; continue; }
      if (sc.eof()) break;
      if (current !== null && atParam(sc)) {
        const name = sc.token().toLowerCase();
        sc.ws();
        sc.i++; // '='
        sc.ws();
        const v = sc.peek() === '"' ? sc.quoted() : sc.bare();
        current.params[name] = v;
        continue;
      }
      const scheme = sc.token();
      if (scheme.length === 0) {
        // a character that cannot start anything: skip to the next comma
        sc.bare();
        continue;
      }
      current = { scheme: scheme.toLowerCase(), params: {} };
      out.push(current);
      sc.ws();
      // token68 form (e.g. "Negotiate abc==") — only when it is not the first parameter
      if (!sc.eof() && sc.peek() !== ',' && !atParam(sc)) {
        const from = sc.i;
        while (!sc.eof() && TOKEN68_CHAR.test(sc.peek()!)) sc.i++;
        while (!sc.eof() && sc.peek() === '=') sc.i++;
        if (sc.i > from) current.params['token68'] = value.slice(from, sc.i);
        else sc.bare();
      }
    }
  }
  return out;
}

type HashName = 'md5' | 'sha256' | 'sha512-256';

/** RFC 7616 §3.3 algorithm names → Node hash name and whether it is a -sess variant. */
function algorithmInfo(name: string | undefined): { hash: HashName; sess: boolean; strength: number } | null {
  const a = (name ?? 'MD5').trim().toUpperCase();
  const sess = a.endsWith('-SESS');
  const base = sess ? a.slice(0, -5) : a;
  if (base === 'MD5') return { hash: 'md5', sess, strength: 1 };
  if (base === 'SHA-256') return { hash: 'sha256', sess, strength: 2 };
  if (base === 'SHA-512-256') return { hash: 'sha512-256', sess, strength: 3 };
  return null;
}

function h(hash: HashName, text: string): string {
  return createHash(hash).update(text, 'utf8').digest('hex');
}

/**
 * The Digest `response` value (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1; RFC 2069 form when no qop).
 * Returns '' for an unsupported algorithm.
 */
export function digestResponse(p: {
  algorithm: string; username: string; realm: string; password: string; method: string; uri: string;
  nonce: string; qop?: string; nc?: string; cnonce?: string;
}): string {
  const alg = algorithmInfo(p.algorithm || 'MD5');
  if (!alg) return '';
  let ha1 = h(alg.hash, `${p.username}:${p.realm}:${p.password}`);
  if (alg.sess) ha1 = h(alg.hash, `${ha1}:${p.nonce}:${p.cnonce ?? ''}`);
  const ha2 = h(alg.hash, `${p.method}:${p.uri}`);
  if (p.qop) return h(alg.hash, `${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:${ha2}`);
  return h(alg.hash, `${ha1}:${p.nonce}:${ha2}`);
}

/** Quote a value for a header parameter (RFC 7230 §3.2.6 quoted-pair for `"` and `\`). */
function q(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

interface DigestState {
  scheme: 'digest';
  realm: string;
  nonce: string;
  opaque: string | undefined;
  algorithm: string;
  /** the algorithm token as the server wrote it, or undefined when it sent none */
  algorithmEcho: string | undefined;
  qop: 'auth' | null;
  userhash: boolean;
  stale: boolean;
}

interface BasicState {
  scheme: 'basic';
  realm: string;
}

type ChosenChallenge = DigestState | BasicState;

/** CTLs (RFC 5234) other than HTAB: not allowed in a quoted-string (RFC 7230 §3.2.6 qdtext allows HTAB). */
// eslint-disable-next-line no-control-regex
const CTL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** How strong a challenge is, or null when we cannot answer it. */
function usable(c: Challenge): { state: ChosenChallenge; strength: number } | null {
  if (c.scheme === 'basic') return { state: { scheme: 'basic', realm: c.params['realm'] ?? '' }, strength: 0 };
  if (c.scheme !== 'digest') return null;
  const realm = c.params['realm'];
  const nonce = c.params['nonce'];
  if (realm === undefined || nonce === undefined) return null;
  // Values we echo into the Authorization header: a control character (NUL, CR, LF, ...) there
  // would corrupt or split our request, so such a challenge is invalid, not answered.
  const opaque = c.params['opaque'];
  if (CTL.test(realm) || CTL.test(nonce) || (opaque !== undefined && CTL.test(opaque)) || CTL.test(c.params['algorithm'] ?? '')) return null;
  const alg = algorithmInfo(c.params['algorithm']);
  if (!alg) return null;
  let qop: 'auth' | null = null;
  const qopParam = c.params['qop'];
  if (qopParam !== undefined) {
    const options = qopParam.split(',').map((x) => x.trim().toLowerCase());
    // auth-int would hash the body; we only answer "auth" (as FFmpeg does).
    if (!options.includes('auth')) return null;
    qop = 'auth';
  }
  return {
    state: {
      scheme: 'digest', realm, nonce, opaque,
      algorithm: (c.params['algorithm'] ?? 'MD5').trim(), algorithmEcho: c.params['algorithm']?.trim(),
      qop, userhash: (c.params['userhash'] ?? '').trim().toLowerCase() === 'true',
      stale: (c.params['stale'] ?? '').trim().toLowerCase() === 'true',
    },
    strength: 10 + alg.strength,
  };
}

function sameChallenge(a: ChosenChallenge, b: ChosenChallenge): boolean {
  if (a.scheme !== b.scheme || a.realm !== b.realm) return false;
  if (a.scheme === 'digest' && b.scheme === 'digest') return a.nonce === b.nonce && a.algorithm.toUpperCase() === b.algorithm.toUpperCase();
  return true;
}

export interface AuthenticatorOptions {
  /** cnonce source (tests); default 16 random bytes as hex */
  cnonce?: () => string;
}

/** Consecutive stale nonces accepted without a success, so a broken server cannot loop us forever. */
const MAX_STALE_RETRIES = 3;

export class Authenticator {
  private readonly username: string;
  private readonly password: string;
  private readonly makeCnonce: () => string;
  private chosen: ChosenChallenge | null = null;
  /** credentials were sent for the current challenge */
  private used = false;
  private failures = 0;
  private staleRetries = 0;
  private nc = 0;
  private cnonce = '';

  constructor(username: string, password: string, options?: AuthenticatorOptions) {
    this.username = username;
    this.password = password;
    this.makeCnonce = options?.cnonce ?? ((): string => randomBytes(16).toString('hex'));
  }

  get scheme(): 'basic' | 'digest' | null {
    return this.chosen?.scheme ?? null;
  }

  /**
   * Take a 401's WWW-Authenticate values. 'retry' = worth sending the request again with
   * credentials; 'failed' = the credentials were already refused (RFC 7616 §3.4: a repeated
   * challenge after an answer means they are wrong, unless stale=true); 'unsupported' = no
   * challenge we can answer.
   */
  onChallenge(values: string[]): 'retry' | 'failed' | 'unsupported' {
    let best: { state: ChosenChallenge; strength: number } | null = null;
    for (const c of parseChallenges(values)) {
      const u = usable(c);
      if (u && (best === null || u.strength > best.strength)) best = u;
    }
    if (!best) return 'unsupported';
    const next = best.state;
    const previous = this.chosen;
    const wasUsed = this.used;
    this.chosen = next;
    this.used = false;
    if (next.scheme === 'digest' && (previous === null || previous.scheme !== 'digest' || previous.nonce !== next.nonce)) {
      this.nc = 0;
      this.cnonce = this.makeCnonce();
    }
    if (previous === null || !wasUsed) return 'retry';
    // Credentials were sent and refused.
    if (next.scheme === 'digest' && next.stale) {
      // RFC 7616 §3.3: stale=true → the password was right, only the nonce expired.
      this.staleRetries++;
      return this.staleRetries > MAX_STALE_RETRIES ? 'failed' : 'retry';
    }
    this.failures++;
    if (sameChallenge(previous, next)) return 'failed';
    // A fresh nonce without stale=true: allow one more attempt (servers that rotate nonces silently).
    return this.failures >= 2 ? 'failed' : 'retry';
  }

  /** A successful response: the credentials work; forget failures. */
  onSuccess(): void {
    this.failures = 0;
    this.staleRetries = 0;
  }

  /**
   * Authorization value for this request, or null before any challenge (Basic is never sent
   * pre-emptively). `uri` must be the Request-URI exactly as written on the request line.
   */
  authorization(method: string, uri: string): string | null {
    const c = this.chosen;
    if (!c) return null;
    this.used = true;
    if (c.scheme === 'basic') {
      return `Basic ${Buffer.from(`${this.username}:${this.password}`, 'utf8').toString('base64')}`;
    }
    const alg = algorithmInfo(c.algorithm)!;
    const params: string[] = [];
    const user = c.userhash ? h(alg.hash, `${this.username}:${c.realm}`) : this.username;
    let nc: string | undefined;
    if (c.qop) {
      this.nc++;
      nc = this.nc.toString(16).padStart(8, '0');
    }
    const response = digestResponse({
      algorithm: c.algorithm, username: this.username, realm: c.realm, password: this.password,
      method, uri, nonce: c.nonce,
      ...(c.qop ? { qop: c.qop, nc: nc!, cnonce: this.cnonce } : alg.sess ? { cnonce: this.cnonce } : {}),
    });
    params.push(`username=${q(user)}`, `realm=${q(c.realm)}`, `nonce=${q(c.nonce)}`, `uri=${q(uri)}`, `response=${q(response)}`);
    // Echo algorithm only when the server named one: some servers reject "algorithm=MD5" (yellowstone).
    if (c.algorithmEcho !== undefined) params.push(`algorithm=${c.algorithmEcho}`);
    if (c.opaque !== undefined) params.push(`opaque=${q(c.opaque)}`);
    if (c.qop) params.push(`qop=${c.qop}`, `nc=${nc!}`, `cnonce=${q(this.cnonce)}`);
    else if (alg.sess) params.push(`cnonce=${q(this.cnonce)}`);
    if (c.userhash) params.push('userhash=true');
    return `Digest ${params.join(', ')}`;
  }
}

/**
 * Parse an Authorization header value (server side). Basic credentials are decoded into
 * `username`/`password` (and kept raw in `token68`). Returns null when there is no scheme.
 */
export function parseAuthorization(value: string): { scheme: string; params: Record<string, string> } | null {
  if (typeof value !== 'string') return null;
  const [first] = parseChallenges([value]);
  if (!first) return null;
  const params = { ...first.params };
  if (first.scheme === 'basic' && params['token68'] !== undefined) {
    const decoded = Buffer.from(params['token68'], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      params['username'] = decoded.slice(0, colon);
      params['password'] = decoded.slice(colon + 1);
    }
  }
  return { scheme: first.scheme, params };
}

/** A Digest challenge value for a WWW-Authenticate header (server side). */
export function digestChallenge(realm: string, nonce: string, opts: { algorithm?: string; qop?: boolean; opaque?: string; stale?: boolean } = {}): string {
  const parts = [`realm=${q(realm)}`, `nonce=${q(nonce)}`];
  if (opts.algorithm) parts.push(`algorithm=${opts.algorithm}`);
  if (opts.qop) parts.push('qop="auth"');
  if (opts.opaque !== undefined) parts.push(`opaque=${q(opts.opaque)}`);
  if (opts.stale) parts.push('stale=true');
  return `Digest ${parts.join(', ')}`;
}

/**
 * Server-side check of an Authorization value against the expected credentials. For Digest the
 * nonce and realm must be the ones issued and the response must match for `method`; the digest
 * `uri=` is used as the client wrote it (clients send absolute or relative forms).
 */
export function verifyAuthorization(value: string | undefined, expected: { method: string; username: string; password: string; realm: string; nonce?: string }): boolean {
  if (value === undefined) return false;
  const a = parseAuthorization(value);
  if (!a) return false;
  if (a.scheme === 'basic') return a.params['username'] === expected.username && a.params['password'] === expected.password;
  if (a.scheme !== 'digest') return false;
  const p = a.params;
  if (p['username'] !== expected.username || p['realm'] !== expected.realm) return false;
  if (expected.nonce !== undefined && p['nonce'] !== expected.nonce) return false;
  if (p['nonce'] === undefined || p['uri'] === undefined || p['response'] === undefined) return false;
  const want = digestResponse({
    algorithm: p['algorithm'] ?? 'MD5', username: expected.username, realm: expected.realm, password: expected.password,
    method: expected.method, uri: p['uri'], nonce: p['nonce'],
    ...(p['qop'] !== undefined ? { qop: p['qop'], nc: p['nc'] ?? '', cnonce: p['cnonce'] ?? '' } : p['cnonce'] !== undefined ? { cnonce: p['cnonce'] } : {}),
  });
  return want !== '' && want === p['response'].toLowerCase();
}
