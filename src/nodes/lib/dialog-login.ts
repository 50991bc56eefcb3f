/**
 * The credentials an editor dialog's request (Test connection, Read profiles) asks to use.
 * The dialog sends its user name and password fields; for a stored password, which the
 * editor never receives, it sends a placeholder instead and the node's stored credentials
 * stand in. rtsp/credentials' rule orders them: the dialog's fields, then the URL's userinfo,
 * then the stored user name.
 */
import { pickLogin, type CredentialSource, type Login } from '../../rtsp/credentials';
import type { CameraCredentials } from './camera-contract';

/** what the editor sends instead of a stored password it never receives */
export const PASSWORD_PLACEHOLDER = '__PWRD__';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** whether the dialog asks for the node's stored password */
export function wantsStoredPassword(body: Record<string, unknown>): boolean {
  return body.password === PASSWORD_PLACEHOLDER;
}

/**
 * `fromUrl`: the userinfo of the URL the dialog sent; `stored`: the node's credentials, read
 * only after the caller checked that they may go where the request goes.
 */
export function dialogLogin(body: Record<string, unknown>, fromUrl: CredentialSource | null | undefined, stored: CameraCredentials | undefined): Login {
  const placeholder = wantsStoredPassword(body);
  return pickLogin(
    { username: str(body.username), password: placeholder ? stored?.password : str(body.password) },
    fromUrl,
    placeholder ? { username: stored?.username } : null,
  );
}
