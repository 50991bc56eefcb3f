/**
 * Mounting a node's GET routes on Node-RED's `RED.httpNode` and taking them off again on
 * redeploy. The routes are one middleware that matches its paths exactly (no Express path
 * patterns, so a path with ':' or '*' means itself), then runs `httpNodeMiddleware` and the
 * `httpNodeCors` origin rule from settings.js before the handler, as core `http in` does;
 * without httpNodeCors a response carries no Access-Control-Allow-Origin at all.
 * `httpNodeAuth` needs nothing here: Node-RED puts it in front of all of `RED.httpNode`.
 */
import type { NextFunction, Request, Response } from 'express';

export type Handler = (req: Request, res: Response, next: NextFunction) => void;

/** the part of an Express app this uses */
export interface RouteApp {
  use(handler: Handler): unknown;
}

interface Layer {
  handle?: unknown;
}

/** Express 4 keeps the stack on `_router`, Express 5 on `router`. */
function stackOf(app: RouteApp): Layer[] | null {
  const a = app as unknown as { _router?: { stack?: Layer[] }; router?: { stack?: Layer[] } };
  return a._router?.stack ?? a.router?.stack ?? null;
}

function asChain(mw: unknown): Handler[] {
  if (typeof mw === 'function') return [mw as Handler];
  if (Array.isArray(mw)) return mw.filter((f): f is Handler => typeof f === 'function');
  return [];
}

/** The subset of the `cors` package's origin option that matters for GET of images. */
export function corsHandler(cors: unknown): Handler | null {
  if (!cors || typeof cors !== 'object') return null;
  const origin = (cors as { origin?: unknown }).origin;
  return (req, res, next) => {
    const from = typeof req.headers.origin === 'string' ? req.headers.origin : '';
    let allow: string | null = null;
    if (origin === undefined || origin === '*' || origin === true) allow = '*';
    else if (typeof origin === 'string') allow = origin;
    else if (Array.isArray(origin)) allow = origin.some((o) => o === from || (o instanceof RegExp && o.test(from))) ? from : null;
    else if (origin instanceof RegExp) allow = origin.test(from) ? from : null;
    if (allow) {
      res.setHeader('Access-Control-Allow-Origin', allow);
      if (allow !== '*') res.setHeader('Vary', 'Origin');
    }
    next();
  };
}

function runChain(chain: Handler[], req: Request, res: Response, last: () => void, fail: NextFunction): void {
  let i = 0;
  const step = (err?: unknown): void => {
    if (err) {
      fail(err);
      return;
    }
    const fn = chain[i++];
    if (!fn) {
      last();
      return;
    }
    try {
      fn(req, res, step);
    } catch (e) {
      fail(e);
    }
  };
  step();
}

export interface RouteSettings {
  httpNodeMiddleware?: unknown;
  httpNodeCors?: unknown;
}

/**
 * Mounts `handler` for GET and HEAD of the paths `match` accepts; returns the function that
 * unmounts it. `match` gets the path relative to httpNodeRoot.
 */
export function mountGetRoutes(app: RouteApp, settings: RouteSettings, match: (path: string) => boolean, handler: Handler): () => void {
  const chain = [...asChain(settings.httpNodeMiddleware)];
  const cors = corsHandler(settings.httpNodeCors);
  if (cors) chain.push(cors);
  const layer: Handler = (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !match(req.path)) {
      next();
      return;
    }
    // Node-RED's editor app sends `Access-Control-Allow-Origin: *` on every request it sees
    // (it mounts the `cors` middleware with origin "*"), and when httpAdminRoot equals
    // httpNodeRoot it sees ours first. Pictures of a camera are readable from another origin
    // only when httpNodeCors says so, so that header goes; httpNodeMiddleware and the
    // httpNodeCors rule below may set it again.
    res.removeHeader('Access-Control-Allow-Origin');
    res.removeHeader('Access-Control-Allow-Credentials');
    runChain(chain, req, res, () => handler(req, res, next), next);
  };
  app.use(layer);
  return () => {
    const stack = stackOf(app);
    if (!stack) return;
    for (let i = stack.length - 1; i >= 0; i--) if (stack[i]?.handle === layer) stack.splice(i, 1);
  };
}

/** `/cameras/front` from what a user typed: a leading '/', no trailing '/', no query. Null
 * when it cannot be a path. */
export function normalizePath(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  let p = raw.trim();
  if (p === '') return null;
  if (!p.startsWith('/')) p = `/${p}`;
  p = p.replace(/\/+$/, '');
  if (p === '' || !/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/.test(p)) return null;
  if (p.endsWith('/snapshot.jpg')) return null;
  return p;
}
