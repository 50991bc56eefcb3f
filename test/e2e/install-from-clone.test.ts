/**
 * "Installing into your own Node-RED" exactly as the README writes it: its shell block runs
 * unchanged, with HOME a fresh folder holding a clone (this tree's files, built as `npm
 * install` in a clone leaves it) and the user directory a first Node-RED start created. Then
 * Node-RED restarts and the palette, help, icons and examples of the package are there.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './support/package-tarball';
import { removeDir, startNodeRed, withLogs, type NodeRed } from './support/node-red';
import { checkPalette } from './support/palette';
import { run } from './support/processes';

const CLONE = 'node-red-contrib-rtsp-mjpeg';

/** the shell block under the README's install-from-clone marker */
function readmeBlock(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- install-from-clone:[^>]*-->\n```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README has the install-from-clone block');
  return m[1]!;
}

describe('install from a clone by the README\'s words', { timeout: 300_000 }, () => {
  let home = '';
  let nr: NodeRed | undefined;

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'e2e-home-'));
    // the clone: every file git would give (tracked and new, not ignored), plus what `npm
    // install` in it leaves: node_modules and the build (dist/, nodes/*.js, nodes/icons/)
    const clone = join(home, CLONE);
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      if (!existsSync(join(ROOT, f))) continue; // deleted in the work tree
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      cpSync(join(ROOT, f), join(clone, f));
    }
    assert.ok(existsSync(join(ROOT, 'dist', 'cli.js')), 'this tree is built (npm install runs prepare)');
    cpSync(join(ROOT, 'dist'), join(clone, 'dist'), { recursive: true });
    for (const f of readdirSync(join(ROOT, 'nodes'))) if (f.endsWith('.js')) cpSync(join(ROOT, 'nodes', f), join(clone, 'nodes', f));
    cpSync(join(ROOT, 'nodes', 'icons'), join(clone, 'nodes', 'icons'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  });

  after(async () => {
    await nr?.stop();
    removeDir(home);
  });

  test('the block names the tarball of this version', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.ok(readmeBlock().includes(`${CLONE}-${version}.tgz`), `README names ${CLONE}-${version}.tgz`);
  });

  test('a fresh Node-RED user directory, the README\'s commands, a restart: the nodes and examples are there', () => withLogs([nr], async () => {
    const userDir = join(home, '.node-red');
    // a first start creates the user directory as a new Node-RED user has it
    mkdirSync(userDir);
    const first = await startNodeRed({ userDir, label: 'fresh' });
    await first.stop();

    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NODE_OPTIONS: '' };
    for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'TSX_TSCONFIG_PATH' || k === 'NODE_TEST_CONTEXT') delete env[k];
    // packages come from this machine's npm cache, as they would from the registry
    env.npm_config_cache = process.env.npm_config_cache ?? join(homedir(), '.npm');
    env.npm_config_prefer_offline = 'true';
    env.npm_config_audit = 'false';
    env.npm_config_fund = 'false';
    const block = readmeBlock();
    const r = await run('README install block', 'bash', ['-euo', 'pipefail', '-c', block], { cwd: home, env, timeoutMs: 240_000 });
    assert.equal(r.code, 0, `the README's commands failed:\n${block}\n${r.output.slice(-4000)}`);
    assert.ok(existsSync(join(userDir, 'node_modules', 'node-red-contrib-rtsp-mjpeg', 'dist', 'index.js')), 'installed, with its build');
    assert.ok(existsSync(join(userDir, 'node_modules', 'node-red-contrib-rtsp-mjpeg', 'docs', 'editor.png')), 'the README\'s pictures come along (docs/ in files)');

    nr = await startNodeRed({ userDir, label: 'installed' });
    await checkPalette(nr);
  }));
});
