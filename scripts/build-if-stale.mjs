// `prepare` and `npm start`: build only when dist/ does not match the sources. npm runs
// `prepare` on `npm install` and `npm pack`, and also when `npx rtsp-mjpeg` is run inside the
// clone (npx links the folder and prepares it); a full build deletes dist/ first, which would
// pull the files from under a Node-RED that is running from this folder. So the build runs
// only when something that goes into dist/ or nodes/*.js changed since the last build, and a
// hash of those inputs is kept in dist/.build-inputs to tell.
//
// `node scripts/build-if-stale.mjs` builds if needed; `--check` only says (exit 1 when stale).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(root, 'dist', '.build-inputs');
const INPUTS = ['src', 'icons', 'tsconfig.json', 'scripts/build.mjs'];

/** sha-256 over the path and bytes of every input file, in a fixed order */
export function inputHash() {
  const h = createHash('sha256');
  const walk = (p) => {
    let st;
    try { st = statSync(p); } catch { return; }
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else {
      h.update(relative(root, p)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  for (const i of INPUTS) walk(join(root, i));
  // the build writes one nodes/<name>.js per entry of package.json's node-red.nodes
  h.update('node-red.nodes\0').update(JSON.stringify(nodeRedNodes()));
  return h.digest('hex');
}

function nodeRedNodes() {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))['node-red']?.nodes ?? {};
}

/** every file the build writes that Node-RED or the CLI loads */
function outputsPresent() {
  if (!existsSync(join(root, 'dist', 'index.js')) || !existsSync(join(root, 'dist', 'cli.js'))) return false;
  if (!existsSync(join(root, 'nodes', 'icons'))) return false;
  for (const path of Object.values(nodeRedNodes())) {
    const m = /^nodes\/(.+)\.js$/.exec(String(path));
    if (!m || !existsSync(join(root, path)) || !existsSync(join(root, 'dist', 'nodes', `${m[1]}.js`))) return false;
  }
  return true;
}

export function isCurrent(hash = inputHash()) {
  try {
    return outputsPresent() && readFileSync(STAMP, 'utf8').trim() === hash;
  } catch {
    return false;
  }
}

/** builds unless dist/ is current; returns whether it built */
export function buildIfStale(log = (m) => process.stdout.write(`${m}\n`)) {
  const hash = inputHash();
  if (isCurrent(hash)) {
    log('dist/ is current: no build needed');
    return false;
  }
  log('building');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`build failed (exit ${r.status ?? r.signal})`);
  writeFileSync(STAMP, `${hash}\n`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const ok = isCurrent();
    process.stdout.write(ok ? 'dist/ is current\n' : 'dist/ is stale or missing\n');
    process.exit(ok ? 0 : 1);
  }
  try {
    buildIfStale();
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
