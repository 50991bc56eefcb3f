/**
 * When can an HTTP client no longer receive a response? Node's 'close' on the response is not
 * enough on its own:
 * - HTTP/1.1 pipelining (RFC 9112 §9.3.2): requests that arrive on one keep-alive connection
 *   behind another get their responses queued until the earlier ones end. Such a queued
 *   response has no socket yet (`res.socket === null`), and when the connection closes Node
 *   emits 'close' only on the response that holds the socket; the queued ones never hear of it.
 * - A route that runs after asynchronous middleware (httpNodeAuth, httpNodeMiddleware) may get
 *   a response whose connection has already closed: its 'close' was emitted before anyone
 *   listened.
 * So a response is watched through its own events and through the connection it arrived on,
 * and checked for a closed connection before any slot is taken for it.
 *
 * One 'close' listener per connection, however many responses wait on it, so that a hundred
 * pipelined requests do not pile listeners onto one socket.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** the responses waiting on each connection, called once when it closes */
const watchers = new WeakMap<Socket, Set<() => void>>();

function onSocketClose(this: Socket): void {
  const set = watchers.get(this);
  watchers.delete(this);
  if (set) for (const fire of [...set]) fire();
}

/** True when nothing written to `res` can reach the client any more. */
export function clientGone(req: IncomingMessage, res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded || req.socket === null || req.socket.destroyed;
}

/**
 * Calls `onGone` once when the client can no longer receive `res`: the response closed or
 * failed, or its connection closed. Returns the function that stops watching (call it once the
 * response has ended normally), or null, without calling anything, when the client is already
 * gone.
 */
export function watchClient(req: IncomingMessage, res: ServerResponse, onGone: () => void): (() => void) | null {
  const sock = req.socket;
  if (clientGone(req, res)) return null;
  let set = watchers.get(sock);
  if (!set) {
    set = new Set();
    watchers.set(sock, set);
    sock.once('close', onSocketClose);
  }
  const mine = set;
  let done = false;
  const stop = (): void => {
    if (done) return;
    done = true;
    res.removeListener('close', fire);
    res.removeListener('error', fire);
    mine.delete(fire);
    if (mine.size === 0 && watchers.get(sock) === mine) {
      watchers.delete(sock);
      sock.removeListener('close', onSocketClose);
    }
  };
  function fire(): void {
    if (done) return;
    stop();
    onGone();
  }
  mine.add(fire);
  res.once('close', fire);
  res.once('error', fire);
  return stop;
}

/**
 * Runs `ready` once `res` is the connection's current response (at once when it already is;
 * later when the responses queued before it on a pipelined connection have ended), or
 * `gone` when the client leaves first. Returns the function that cancels both.
 */
export function whenCurrent(req: IncomingMessage, res: ServerResponse, ready: () => void, gone: () => void): () => void {
  if (res.socket) {
    ready();
    return () => undefined;
  }
  const onSocket = (): void => {
    stop?.();
    ready();
  };
  const stop = watchClient(req, res, () => {
    res.removeListener('socket', onSocket);
    gone();
  });
  if (!stop) {
    gone();
    return () => undefined;
  }
  res.once('socket', onSocket);
  return () => {
    res.removeListener('socket', onSocket);
    stop();
  };
}
