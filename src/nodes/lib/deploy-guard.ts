/**
 * Keeps camera passwords out of flows.json when a flow arrives through the admin API (a
 * script's POST /flows, an import, a deploy of an imported flow) with `user:pass@` in an
 * `rtsp-camera` URL. Node-RED saves a deploy's flow before any node runs, and a node cannot
 * rewrite the saved flow afterwards; what it can do is hand credentials over in the deploy
 * itself: a node's `credentials` property in the deploy body goes to the encrypted
 * credential store and never into flows.json (@node-red/runtime credentials.extract). So a
 * middleware placed after the admin app's body parsers and before the admin API's routes
 * moves the userinfo of each such URL into `credentials` (the credential fields win where
 * they are set, the same rule the node applies) and leaves the URL clean.
 *
 * The nodes' RED.httpAdmin is the runtime's app, which Node-RED mounts at the end of the
 * editor's admin app (after the admin API), so the guard goes into the app it is mounted on
 * (Express sets `parent` when it mounts an app); an app mounted nowhere, as in the test
 * helper, takes it itself.
 */
import type { NextFunction, Request, Response } from 'express';
import { splitUrlCredentials } from './url-credentials';
import type { CameraCredentials } from './camera-contract';

type FlowNode = Record<string, unknown> & { id?: unknown; type?: unknown; url?: unknown; credentials?: unknown };

/** what the editor sends for a stored password it does not know */
const PASSWORD_PLACEHOLDER = '__PWRD__';

interface DeployBody {
  nodes: FlowNode[];
  /** a v2 deploy's full credential set, when it is plain */
  fullCredentials: Record<string, unknown> | null;
  /** the full credential set is encrypted: nothing can be merged into it */
  encrypted: boolean;
}

function nodesOf(body: unknown): DeployBody {
  const asNodes = (v: unknown): FlowNode[] => (Array.isArray(v) ? v.filter((n): n is FlowNode => typeof n === 'object' && n !== null) : []);
  if (Array.isArray(body)) return { nodes: asNodes(body), fullCredentials: null, encrypted: false };
  if (typeof body !== 'object' || body === null) return { nodes: [], fullCredentials: null, encrypted: false };
  const b = body as Record<string, unknown>;
  // v2 deploy: { flows, credentials? }; POST/PUT /flow: { nodes, configs, subflows? }
  const nodes = [...asNodes(b.flows), ...asNodes(b.nodes), ...asNodes(b.configs)];
  const creds = typeof b.credentials === 'object' && b.credentials !== null ? (b.credentials as Record<string, unknown>) : null;
  const encrypted = creds !== null && '$' in creds;
  return { nodes, fullCredentials: encrypted ? null : creds, encrypted };
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Moves `user:pass@` out of the `url` of every node of `type` in a deploy body (changed in
 * place) into its credentials. `stored(id)` gives the credentials already saved for a node.
 * Returns how many URLs it cleaned. A body whose full credential set is encrypted (`$`) is
 * left as it is: its credentials cannot be merged.
 */
export function moveUrlCredentials(body: unknown, type: string, stored: (id: string) => CameraCredentials | undefined): number {
  const { nodes, fullCredentials, encrypted } = nodesOf(body);
  if (encrypted) return 0;
  let cleaned = 0;
  for (const n of nodes) {
    if (n.type !== type || typeof n.url !== 'string' || typeof n.id !== 'string') continue;
    const split = splitUrlCredentials(n.url);
    if (split.username === undefined && split.password === undefined) continue;
    const id = n.id;
    const given = (typeof n.credentials === 'object' && n.credentials !== null ? n.credentials : {}) as Record<string, unknown>;
    const listed = fullCredentials?.[id];
    const full = (typeof listed === 'object' && listed !== null ? listed : {}) as Record<string, unknown>;
    const saved = stored(id) ?? {};
    const user = text(full.username) || text(given.username) || text(saved.username);
    let pass = text(full.password) || text(given.password);
    if (pass === PASSWORD_PLACEHOLDER) pass = text(saved.password);
    else if (!pass && !('password' in given) && !('password' in full)) pass = text(saved.password);
    const moved: CameraCredentials = {};
    if (!user && split.username) moved.username = split.username;
    if (!pass && split.password) moved.password = split.password;
    n.url = split.url;
    cleaned++;
    if (fullCredentials) fullCredentials[id] = { ...full, ...moved };
    else n.credentials = { ...given, ...moved };
  }
  return cleaned;
}

interface Layer {
  handle?: unknown;
  name?: unknown;
}

/** Express 4 keeps the stack on `_router`, Express 5 on `router`. */
function stackOf(app: unknown): Layer[] | null {
  const a = app as { _router?: { stack?: Layer[] }; router?: { stack?: Layer[] } } | null;
  return a?._router?.stack ?? a?.router?.stack ?? null;
}

const DEPLOY_ROUTES = /^\/(?:flows|flow(?:\/[^/]+)?)$/;

/**
 * Mounts the guard right after the body parsers of the admin app that RED.httpAdmin
 * (`adminApp`) is mounted on, or of `adminApp` itself when it is mounted nowhere. Returns false
 * when it could not be placed there (no admin app, or an Express without a visible stack):
 * the node then still uses the URL's credentials, and says so in its log.
 */
export function installDeployGuard(adminApp: unknown, type: string, stored: (id: string) => CameraCredentials | undefined, onMoved: (count: number) => void): boolean {
  type App = { use?: (h: unknown) => unknown; parent?: unknown };
  const own = adminApp as App | null;
  const app = (own?.parent ?? own) as App | null;
  if (!app || typeof app.use !== 'function') return false;
  const guard = (req: Request, _res: Response, next: NextFunction): void => {
    try {
      if ((req.method === 'POST' || req.method === 'PUT') && DEPLOY_ROUTES.test(req.path)) {
        const n = moveUrlCredentials(req.body, type, stored);
        if (n > 0) onMoved(n);
      }
    } catch {
      // a body this does not understand goes on unchanged; the admin API judges it
    }
    next();
  };
  app.use(guard);
  const stack = stackOf(app);
  if (!stack) return false;
  const mine = stack.findIndex((l) => l.handle === guard);
  let parsers = -1;
  stack.forEach((l, i) => {
    if (l.name === 'jsonParser' || l.name === 'urlencodedParser') parsers = i;
  });
  if (mine < 0 || parsers < 0) return false;
  const [layer] = stack.splice(mine, 1);
  if (layer) stack.splice(parsers + 1, 0, layer);
  return true;
}
