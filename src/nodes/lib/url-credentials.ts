/**
 * Credentials pasted into a camera URL (`rtsp://user:pass@host/path`, RFC 3986 §3.2.1
 * userinfo) are moved out of it: the URL is stored and shown clean, the user name and
 * password go to Node-RED's encrypted credential store. The editor does the same split in
 * the browser (nodes/rtsp-camera.html); this is the runtime's safety net for URLs that got
 * through (flows edited by hand, imported, set by the admin API). The split itself is
 * rtsp/url.ts's, the same rule the camera layer parses URLs with.
 */
import { decodeUserinfo, splitUserinfo } from '../../rtsp/url';

export interface SplitUrl {
  /** the URL without userinfo */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
}

/** Splits userinfo out of a `scheme://` URL (see splitUserinfo); other text comes back as is. */
export function splitUrlCredentials(raw: string): SplitUrl {
  const text = raw.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(.*)$/s.exec(text);
  if (!m) return { url: text };
  const { userinfo, rest } = splitUserinfo(m[2] as string);
  if (userinfo === null) return { url: text };
  const { username, password } = decodeUserinfo(userinfo);
  const out: SplitUrl = { url: (m[1] as string) + rest };
  if (username !== '') out.username = username;
  if (password !== null) out.password = password;
  return out;
}
