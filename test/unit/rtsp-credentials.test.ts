/**
 * rtsp/credentials: which user name and password win, and the secrets list, the one rule the
 * nodes, the editor's routes, the camera session, the CLI and the transports use.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { pickLogin, secretList } from '../../src/rtsp/credentials';
import { parseRtspUrl } from '../../src/rtsp/url';
import { splitUrlCredentials } from '../../src/nodes/lib/url-credentials';
import { dialogLogin, PASSWORD_PLACEHOLDER } from '../../src/nodes/lib/dialog-login';

describe('pickLogin', () => {
  test('each field from the first source with a non-empty one; every password is a secret', () => {
    const url = parseRtspUrl('rtsp://urluser:urlpass@cam/x');
    assert.deepEqual(pickLogin({ username: 'field', password: 'fieldpass' }, url), { username: 'field', password: 'fieldpass', secrets: ['fieldpass', 'urlpass'] });
    // empty fields (a credential store with an empty user name) fall through to the URL
    assert.deepEqual(pickLogin({ username: '', password: 'p' }, url), { username: 'urluser', password: 'p', secrets: ['p', 'urlpass'] });
    assert.deepEqual(pickLogin({}, url), { username: 'urluser', password: 'urlpass', secrets: ['urlpass'] });
    assert.deepEqual(pickLogin(undefined, null), { username: undefined, password: undefined, secrets: [] });
    // the node's split and the camera layer's parse give the same login for the same URL
    const raw = 'rtsp://admin:p@ss/w%rd@10.0.0.5:554/live';
    assert.deepEqual(pickLogin(undefined, splitUrlCredentials(raw)), pickLogin(undefined, parseRtspUrl(raw)));
  });
  test('secretList: distinct, non-empty', () => {
    assert.deepEqual(secretList('a', undefined, '', null, 'a', 'b'), ['a', 'b']);
  });
});

describe('dialogLogin (Test connection, Read profiles)', () => {
  const split = splitUrlCredentials('rtsp://urluser:urlpass@cam/x');
  test('typed fields first, then the URL', () => {
    assert.deepEqual(dialogLogin({ username: 'u', password: 'typed' }, split, undefined), { username: 'u', password: 'typed', secrets: ['typed', 'urlpass'] });
    assert.deepEqual(dialogLogin({}, split, undefined), { username: 'urluser', password: 'urlpass', secrets: ['urlpass'] });
  });
  test('the placeholder stands for the stored password, never for itself; the stored user name comes last', () => {
    const stored = { username: 'storeduser', password: 'storedpass' };
    assert.deepEqual(dialogLogin({ password: PASSWORD_PLACEHOLDER }, splitUrlCredentials('rtsp://cam/x'), stored), { username: 'storeduser', password: 'storedpass', secrets: ['storedpass'] });
    assert.deepEqual(dialogLogin({ username: 'typed', password: PASSWORD_PLACEHOLDER }, split, stored).username, 'typed');
    assert.deepEqual(dialogLogin({ password: PASSWORD_PLACEHOLDER }, split, stored).username, 'urluser');
    // no stored credentials (no such node): the URL's password, and the placeholder is no password
    assert.deepEqual(dialogLogin({ password: PASSWORD_PLACEHOLDER }, splitUrlCredentials('rtsp://cam/x'), undefined), { username: undefined, password: undefined, secrets: [] });
  });
});
