/**
 * openCamera for tests: the same session, with a logger that fails the test when the session
 * refuses a state change. A refused change is a bug (some path asked for a change the
 * session's transition table does not allow); the session only logs it, so without this a
 * test would pass over it. The throw surfaces as an uncaught exception or rejection, which
 * node:test reports as a failure of the running test. A logger the test passes still gets
 * every message first.
 */
import { openCamera as openLibraryCamera } from '../../src/camera/open';
import type { CameraSession } from '../../src/camera/session';
import type { CameraOptions } from '../../src/camera/types';

type Logger = NonNullable<CameraOptions['logger']>;

export function strictLogger(inner?: Logger): Logger {
  return (level, message) => {
    inner?.(level, message);
    // includes(): a throw inside an event listener comes back as "a 'state' listener threw: …"
    if (message.includes('refused state change')) throw new Error(`CameraSession bug: ${message}`);
  };
}

export function openCamera(url: string, options: CameraOptions = {}): CameraSession {
  return openLibraryCamera(url, { ...options, logger: strictLogger(options.logger) });
}
