/**
 * Paths of `mjpeg http out` that someone else also answers on Node-RED's HTTP server:
 * - the editor and its admin API, when httpNodeRoot lies inside httpAdminRoot (both are `/`
 *   unless settings.js moves one): Node-RED mounts the editor first, so it answers `/flows`,
 *   `/settings`, `/icons/…` before any node route is asked;
 * - `http in` nodes (and any other GET route on RED.httpNode), which match Express patterns
 *   such as `/cam/:id`.
 * Such a path works for one of the two only; the node says so instead of failing quietly.
 */

/** First path segments of GET routes of Node-RED 4's editor and admin API
 * (@node-red/editor-api: editor, admin, theme, locales, projects, static editor files). */
const EDITOR_SEGMENTS = new Set([
  'auth', 'comms', 'context', 'credentials', 'diagnostics', 'favicon.ico', 'flow', 'flows', 'icons', 'library',
  'locales', 'nodes', 'plugins', 'projects', 'red', 'resources', 'settings', 'theme', 'types', 'vendor',
]);

/** `/a/b/` → `/a/b`; `/` → ''; false or not a string → null */
function root(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  return `/${v}`.replace(/\/+/g, '/').replace(/\/$/, '');
}

interface RouteLayer {
  route?: { path?: unknown; methods?: Record<string, boolean> };
  match?: (path: string) => boolean;
  handle?: unknown;
}

/** Express 4 keeps the stack on `_router`, Express 5 on `router`. */
function routeLayers(app: unknown): RouteLayer[] {
  const a = app as { _router?: { stack?: RouteLayer[] }; router?: { stack?: RouteLayer[] } } | null;
  return a?._router?.stack ?? a?.router?.stack ?? [];
}

function matches(layer: RouteLayer, path: string): boolean {
  try {
    return typeof layer.match === 'function' && layer.match(path) === true;
  } catch {
    return false;
  }
}

/**
 * The editor route `path` (relative to httpNodeRoot) collides with, e.g. "/flows", or null.
 * `adminApp` is RED.httpAdmin: the GET routes nodes added to it count too.
 */
export function editorOverlap(path: string, settings: { httpAdminRoot?: unknown; httpNodeRoot?: unknown }, adminApp: unknown): string | null {
  const adminRoot = root(settings.httpAdminRoot ?? '/');
  const nodeRoot = root(settings.httpNodeRoot ?? '/');
  if (adminRoot === null || nodeRoot === null) return null;
  for (const p of [path, `${path}/snapshot.jpg`]) {
    const full = nodeRoot + p;
    if (full !== adminRoot && !full.startsWith(`${adminRoot}/`)) continue;
    const rel = full.slice(adminRoot.length);
    const first = rel.split('/')[1] ?? '';
    if (EDITOR_SEGMENTS.has(first)) return `${adminRoot}/${first}`;
    for (const layer of routeLayers(adminApp)) {
      if (layer.route?.methods?.get && matches(layer, rel)) return adminRoot + String(layer.route.path);
    }
  }
  return null;
}

/** GET routes of RED.httpNode (an `http in` node's, typically) that also match `path` or its
 * snapshot, as their Express path patterns. */
export function nodeRouteOverlaps(path: string, nodeApp: unknown): string[] {
  const found = new Set<string>();
  for (const layer of routeLayers(nodeApp)) {
    const m = layer.route?.methods;
    if (!m || !(m.get || m._all)) continue;
    if (matches(layer, path) || matches(layer, `${path}/snapshot.jpg`)) found.add(String(layer.route?.path));
  }
  return [...found];
}
