/**
 * Which user name and password a connection uses, and which secrets texts about it must not
 * show. A camera's credentials can come from several places: the node's credential fields,
 * the library's options or the CLI's --username and RTSP_PASSWORD, a userinfo pasted into the
 * URL (RFC 3986 §3.2.1), a password the editor stored. The rule, for all of them: the user
 * name and the password each come from the first source, in the caller's order, that has a
 * non-empty one (the explicit fields before the URL). Every password seen, used or not, is a
 * secret: an error text may quote the URL that carried one.
 */

export interface CredentialSource {
  username?: string | null | undefined;
  password?: string | null | undefined;
}

export interface Login {
  username: string | undefined;
  password: string | undefined;
  /** the passwords to strip from texts (redactText's list) */
  secrets: string[];
}

const given = (v: string | null | undefined): v is string => typeof v === 'string' && v !== '';

/** The distinct non-empty passwords, for redactText. */
export function secretList(...passwords: (string | null | undefined)[]): string[] {
  return [...new Set(passwords.filter(given))];
}

/** User name and password by the rule above; `sources` first to last, missing ones skipped. */
export function pickLogin(...sources: (CredentialSource | null | undefined)[]): Login {
  let username: string | undefined;
  let password: string | undefined;
  for (const s of sources) {
    if (!s) continue;
    if (username === undefined && given(s.username)) username = s.username;
    if (password === undefined && given(s.password)) password = s.password;
  }
  return { username, password, secrets: secretList(...sources.map((s) => s?.password)) };
}
