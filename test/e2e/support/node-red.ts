/**
 * A real Node-RED for end-to-end tests: a fresh user directory with the packed package
 * installed by `npm install <tgz>` (no link to the source tree), a settings.js bound to
 * 127.0.0.1 on a free port with telemetry off, started as its own process group, and a small
 * admin-API client (no adminAuth: the API is reachable only from this host).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { freePort, run, spawnGroup, type GroupChild } from './processes';

export const PACKAGE = 'node-red-contrib-rtsp-mjpeg';
/** every node type the package's editor files register (a new node is expected in the palette) */
export const TYPES: readonly string[] = (() => {
  const dir = join(__dirname, '..', '..', '..', 'nodes');
  return readdirSync(dir).filter((f) => f.endsWith('.html'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/RED\.nodes\.registerType\(\s*"([^"]+)"/g)].map((m) => m[1]!));
})();

export interface NodeEnv {
  /** the node binary that runs npm and Node-RED (default: this process's) */
  nodeBin?: string;
}

function envFor(opts: NodeEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  // npm scripts and tsx set these for this process; the child is a plain `node-red`
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'TSX_TSCONFIG_PATH' || k === 'NODE_TEST_CONTEXT') delete env[k];
  if (opts.nodeBin) env.PATH = dirname(opts.nodeBin) + delimiter + (env.PATH ?? '');
  return env;
}

/** A fresh Node-RED user directory with the tarball installed as a user would (plus `also`,
 * other packages from the npm cache, e.g. the dashboard an example needs). */
export async function makeUserDir(tgz: string, label: string, opts: NodeEnv = {}, also: string[] = []): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `e2e-nr-${label}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'node-red-project', description: 'e2e user dir', version: '0.0.1', private: true }, null, 2));
  const r = await run(`npm install (${label})`, 'npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline', tgz, ...also],
    { cwd: dir, env: envFor(opts), timeoutMs: 240_000 });
  if (r.code !== 0) throw new Error(`npm install ${tgz} in ${dir} failed (exit ${r.code}):\n${r.output.slice(-4000)}`);
  return dir;
}

export interface HttpResult { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; text: string }

export interface NodeRed {
  readonly url: string;
  readonly port: number;
  readonly userDir: string;
  readonly child: GroupChild;
  http(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult>;
  getJson<T>(path: string): Promise<T>;
  /** full deploy of `flow` (v1 array), throws unless 200/204 */
  deploy(flow: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions extends NodeEnv {
  /** path of red.js (default: the node-red devDependency, 4.1) */
  redJs?: string;
  userDir: string;
  label: string;
  /** more settings.js properties, as JavaScript source (e.g. "httpNodeAuth: {...},") */
  extraSettings?: string;
}

export async function startNodeRed(o: StartOptions): Promise<NodeRed> {
  const port = await freePort();
  const settings = join(o.userDir, 'settings.js');
  writeFileSync(settings, `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: 'flows.json',
  credentialSecret: 'e2e-test-only',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false, ui: false },
  editorTheme: { tours: false, projects: { enabled: false } },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  functionExternalModules: false,
${o.extraSettings ?? ''}
};
`);
  mkdirSync(o.userDir, { recursive: true });
  const redJs = o.redJs ?? require.resolve('node-red/red.js');
  const child = spawnGroup(`node-red ${o.label}`, o.nodeBin ?? process.execPath, [redJs, '-u', o.userDir, '-s', settings],
    { cwd: o.userDir, env: envFor(o) });
  try {
    await child.waitFor(/Server now running at http:\/\/127\.0\.0\.1:\d+/, 60_000);
  } catch (err) {
    await child.stop();
    throw err;
  }
  const url = `http://127.0.0.1:${port}/`;
  const http = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request({
        host: '127.0.0.1', port, path, method, timeout: 30_000,
        headers: { accept: 'application/json', ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}), ...headers },
      }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const b = Buffer.concat(parts);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  return {
    url, port, userDir: o.userDir, child, http,
    async getJson<T>(path: string): Promise<T> {
      const r = await http('GET', path);
      if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
      return JSON.parse(r.text) as T;
    },
    async deploy(flow: unknown[]) {
      const r = await http('POST', '/flows', flow, { 'node-red-deployment-type': 'full' });
      if (r.status !== 204 && r.status !== 200) throw new Error(`deploy: HTTP ${r.status} ${r.text.slice(0, 500)}`);
    },
    async stop() { await child.stop(8000); },
  };
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Runs `fn`; on failure the error message gets the tail of each instance's log. */
export async function withLogs<T>(instances: (NodeRed | undefined)[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    for (const nr of instances) if (nr) e.message += `\n--- ${nr.child.name} log (tail) ---\n${nr.child.output().slice(-2500)}`;
    throw e;
  }
}
