/**
 * scripts/build.mjs: the node stubs Node-RED loads come from package.json's `node-red.nodes`,
 * and the build fails when that map and src/nodes/ disagree.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(__dirname, '..', '..');
type NodeStubs = (nodes: Record<string, string> | undefined, sources: string[]) => Map<string, string>;

async function nodeStubs(): Promise<NodeStubs> {
  const mod = await import(pathToFileURL(join(ROOT, 'scripts', 'build.mjs')).href) as { nodeStubs: NodeStubs };
  return mod.nodeStubs;
}

describe('node stubs from package.json node-red.nodes', () => {
  test("this package: one stub per entry, each requiring its compiled node", async () => {
    const stubs = await nodeStubs();
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
    const sources = readdirSync(join(ROOT, 'src', 'nodes'), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
    const out = stubs(pkg['node-red'].nodes, sources);
    assert.deepEqual([...out.keys()].sort(), Object.values(pkg['node-red'].nodes).map((p) => p.replace(/^nodes\//, '')).sort());
    for (const [file, content] of out) assert.match(content, new RegExp(`require\\('\\.\\./dist/nodes/${file.replace('.', '\\.')}'\\)`));
  });

  test('a listed node without a source fails, naming it', async () => {
    const stubs = await nodeStubs();
    assert.throws(() => stubs({ a: 'nodes/a.js', gone: 'nodes/gone.js' }, ['a.ts']), /node-red\.nodes\["gone"\] lists nodes\/gone\.js, but there is no src\/nodes\/gone\.ts/);
  });

  test('a source in src/nodes/ that no entry lists fails, naming it', async () => {
    const stubs = await nodeStubs();
    assert.throws(() => stubs({ a: 'nodes/a.js' }, ['a.ts', 'extra.ts', 'lib']), /src\/nodes\/extra\.ts is listed in package\.json's node-red\.nodes by no entry/);
  });

  test('an entry that is not nodes/<name>.js fails; .d.ts and non-.ts files are not sources', async () => {
    const stubs = await nodeStubs();
    assert.throws(() => stubs({ a: 'dist/nodes/a.js' }, ['a.ts']), /is "dist\/nodes\/a\.js", not nodes\/<name>\.js/);
    assert.deepEqual([...stubs({ a: 'nodes/a.js' }, ['a.ts', 'a.d.ts', 'README.md']).keys()], ['a.js']);
  });

  test('every problem is reported at once', async () => {
    const stubs = await nodeStubs();
    assert.throws(() => stubs({ gone: 'nodes/gone.js' }, ['extra.ts']), (err: Error) => /gone/.test(err.message) && /extra/.test(err.message));
  });
});
