/**
 * A local stand-in for the Flow Library scorecard (`node-red-dev validate`, which needs the
 * catalogue host and so cannot run offline): P01, P03-P07, N02, D01 and the
 * editor rules (registerType's category, color, icon, inputs, outputs and the defaults /
 * credentials keys must be inline literals, found in <script type="text/javascript">).
 * N01 (types unique in the catalogue), D02 and D03 need the network and are not checked.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as acorn from 'acorn';

const root = join(__dirname, '..', '..');
const req = createRequire(join(root, 'package.json'));
// node-red's own semver (no @types for it in this project; the two calls used are typed here)
const semver = req('semver') as { satisfies(v: string, range: string): boolean; minVersion(range: string): { version: string } | null };

interface Pkg {
  name: string;
  license?: string;
  repository?: unknown;
  bugs?: unknown;
  keywords?: string[];
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  files?: string[];
  'node-red'?: { version?: string; nodes?: Record<string, string> };
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Pkg;
const CONTRACT_TYPES = ['rtsp-camera', 'rtsp-mjpeg in', 'rtcp stats', 'mjpeg http out', 'mjpeg motion', 'mjpeg record', 'onvif events'];

type Node = acorn.Node & Record<string, unknown>;

/** Every RED.nodes.registerType(type, {...}) call in the page's text/javascript blocks. */
function registerCalls(html: string): { type: string; def: Node }[] {
  const out: { type: string; def: Node }[] = [];
  const blocks = [...html.matchAll(/<script\s+type="text\/javascript"\s*>([\s\S]*?)<\/script>/g)].map((m) => m[1] as string);
  for (const code of blocks) {
    const ast = acorn.parse(code, { ecmaVersion: 2020 }) as unknown as Node;
    const visit = (n: unknown): void => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) {
        n.forEach(visit);
        return;
      }
      const node = n as Node;
      if (node.type === 'CallExpression') {
        const callee = node.callee as Node;
        const src = code.slice(callee.start, callee.end);
        const args = node.arguments as Node[];
        if (src === 'RED.nodes.registerType' && args[0]?.type === 'Literal' && args[1]) {
          out.push({ type: String(args[0].value), def: args[1] });
        }
      }
      for (const [k, v] of Object.entries(node)) if (k !== 'start' && k !== 'end') visit(v);
    };
    visit(ast);
  }
  return out;
}

function prop(obj: Node, name: string): Node | undefined {
  const props = obj.properties as Node[];
  const p = props.find((q) => !q.computed && ((q.key as Node).name === name || (q.key as Node).value === name));
  return p ? (p.value as Node) : undefined;
}

const nodeFiles = Object.entries(pkg['node-red']?.nodes ?? {});
const htmlByFile = nodeFiles.map(([set, js]) => ({ set, js, htmlPath: join(root, js.replace(/\.js$/, '.html')) }));

describe('scorecard: package.json (P01, P03-P07, D01)', () => {
  test('P01 license', () => {
    assert.equal(typeof pkg.license, 'string');
    assert.ok((pkg.license ?? '').length > 0);
  });
  test('P03 repository or bugs', () => assert.ok(pkg.repository || pkg.bugs));
  test('P04 naming: scoped, or node-red-contrib-* when it starts with node-red', () => {
    assert.ok(/^@[^/]+\/.+/.test(pkg.name) || !/^(node-red|nodered)(?!-contrib-)/.test(pkg.name), pkg.name);
  });
  test('P05 keyword node-red', () => assert.ok(pkg.keywords?.includes('node-red')));
  test('P06 node-red.version admits the latest Node-RED (5.0.7) and the 4.x line', () => {
    const range = pkg['node-red']?.version ?? '';
    for (const v of ['5.0.7', '4.0.0', '4.1.15']) assert.ok(semver.satisfies(v, range), `${range} does not admit ${v}`);
  });
  test('P07 engines.node admits the minimum Node of the latest Node-RED (22.9.0) and Node 20', () => {
    const range = pkg.engines?.node ?? '';
    assert.equal(semver.minVersion('>=22.9')?.version, '22.9.0');
    for (const v of ['22.9.0', '20.0.0', process.versions.node]) assert.ok(semver.satisfies(v, range), `${range} does not admit ${v}`);
  });
  test('D01 at most 6 runtime dependencies, node-red not among them', () => {
    const deps = Object.keys(pkg.dependencies ?? {});
    assert.ok(deps.length <= 6, deps.join(','));
    assert.ok(!deps.includes('node-red'));
  });
  test('the published files include the node, icon, locale and example folders', () => {
    for (const f of ['nodes/', 'examples/', 'dist/']) assert.ok(pkg.files?.includes(f), f);
  });
});

describe('scorecard: editor files', () => {
  test('node-red.nodes lists one file per contract type, each with its .html beside it', () => {
    assert.deepEqual(nodeFiles.map(([set]) => set).sort(), ['mjpeg-http-out', 'mjpeg-motion', 'mjpeg-record', 'onvif-events', 'rtcp-stats', 'rtsp-camera', 'rtsp-mjpeg-in']);
    for (const h of htmlByFile) assert.ok(existsSync(h.htmlPath), h.htmlPath);
  });

  const all = htmlByFile.flatMap((h) => {
    const html = readFileSync(h.htmlPath, 'utf8');
    return registerCalls(html).map((c) => ({ ...c, html, file: h.htmlPath }));
  });

  test('exactly the contract types, each with a template of the same name', () => {
    assert.deepEqual(all.map((c) => c.type).sort(), [...CONTRACT_TYPES].sort());
    for (const c of all) assert.ok(c.html.includes(`data-template-name="${c.type}"`), c.type);
  });

  test('category, color, icon, inputs, outputs are inline literals; defaults and credentials keys inline', () => {
    for (const c of all) {
      assert.equal(c.def.type, 'ObjectExpression', `${c.type}: definition is not an object literal`);
      const category = prop(c.def, 'category');
      assert.equal(category?.type, 'Literal', `${c.type}: category-not-inline`);
      const isConfig = category?.value === 'config';
      const required = isConfig ? [] : ['color', 'icon', 'inputs', 'outputs'];
      for (const key of ['color', 'icon', 'inputs', 'outputs']) {
        const v = prop(c.def, key);
        if (required.includes(key)) assert.ok(v, `${c.type}: ${key} missing`);
        if (v) assert.equal(v.type, 'Literal', `${c.type}: ${key}-not-inline`);
      }
      for (const key of ['defaults', 'credentials']) {
        const v = prop(c.def, key);
        if (key === 'defaults') assert.ok(v, `${c.type}: defaults missing`);
        if (!v) continue;
        assert.equal(v.type, 'ObjectExpression', `${c.type}: ${key}-not-inline`);
        for (const p of v.properties as Node[]) {
          assert.equal(p.type, 'Property', `${c.type}: ${key} has a spread`);
          assert.ok(!p.computed, `${c.type}: ${key} has a computed key`);
        }
      }
      const keys = (prop(c.def, 'defaults')?.properties as Node[]).map((p) => (p.key as Node).name ?? (p.key as Node).value);
      assert.ok(keys.includes('name'), `${c.type}: no name property`);
    }
  });

  test('the properties of the contract are there', () => {
    const keysOf = (type: string, what: string): unknown[] => {
      const c = all.find((x) => x.type === type);
      assert.ok(c, type);
      return ((prop(c.def, what)?.properties ?? []) as Node[]).map((p) => (p.key as Node).name ?? (p.key as Node).value);
    };
    for (const k of ['name', 'url', 'transport']) assert.ok(keysOf('rtsp-camera', 'defaults').includes(k), k);
    assert.deepEqual(keysOf('rtsp-camera', 'credentials'), ['username', 'password']);
    for (const k of ['name', 'camera', 'maxFps']) assert.ok(keysOf('rtsp-mjpeg in', 'defaults').includes(k), k);
    for (const k of ['name', 'camera', 'interval']) assert.ok(keysOf('rtcp stats', 'defaults').includes(k), k);
    for (const k of ['name', 'camera', 'path', 'maxFps', 'maxViewers']) assert.ok(keysOf('mjpeg http out', 'defaults').includes(k), k);
    for (const k of ['connect', 'linger']) assert.ok(keysOf('rtsp-camera', 'defaults').includes(k), k);
    assert.ok(keysOf('rtsp-mjpeg in', 'defaults').includes('startOnDeploy'));
    for (const k of ['name', 'camera', 'rate', 'threshold', 'minArea', 'mask', 'gap', 'perFrame']) assert.ok(keysOf('mjpeg motion', 'defaults').includes(k), k);
    for (const k of ['name', 'preRoll', 'postRoll', 'maxLength', 'folder', 'maxAgeDays', 'maxSizeMB']) assert.ok(keysOf('mjpeg record', 'defaults').includes(k), k);
  });

  test('icons named in the editor exist in icons/ (copied beside the node .js by the build)', () => {
    for (const c of all) {
      const icon = prop(c.def, 'icon');
      if (!icon) continue;
      const name = String(icon.value);
      if (name.includes('/')) continue; // font-awesome/… or another module's icon
      assert.ok(existsSync(join(root, 'icons', name)), name);
    }
  });

  test('help for every type in locales/en-US beside the node file, summary paragraph first', () => {
    for (const h of htmlByFile) {
      const base = h.js.replace(/^.*\//, '').replace(/\.js$/, '');
      const helpPath = join(root, 'nodes', 'locales', 'en-US', `${base}.html`);
      assert.ok(existsSync(helpPath), helpPath);
      const help = readFileSync(helpPath, 'utf8');
      const type = registerCalls(readFileSync(h.htmlPath, 'utf8'))[0]?.type ?? '';
      const m = new RegExp(`<script type="text/html" data-help-name="${type}">\\s*<p>`).exec(help);
      assert.ok(m, `${type}: help must start with a <p> summary`);
    }
  });
});

describe('scorecard: examples (N02)', () => {
  const dir = join(root, 'examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  test('there are example flows', () => assert.ok(files.length >= 4));
  const flows = files.map((f) => ({ f, flow: JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown }));

  test('each example is a top-level array of nodes with unique ids and resolvable wires and config refs', () => {
    for (const { f, flow } of flows) {
      assert.ok(Array.isArray(flow), `${f} is not an array`);
      const nodes = flow as { id: string; type: string; wires?: string[][]; camera?: string; broker?: string }[];
      const ids = new Set(nodes.map((n) => n.id));
      assert.equal(ids.size, nodes.length, `${f}: duplicate ids`);
      for (const n of nodes) {
        for (const out of n.wires ?? []) for (const w of out) assert.ok(ids.has(w), `${f}: ${n.id} wired to missing ${w}`);
        // an empty camera is the camera-less mode of mjpeg http out
        if (n.camera) assert.ok(ids.has(n.camera), `${f}: missing camera ${n.camera}`);
        if (n.broker !== undefined && n.type !== 'mqtt-broker') assert.ok(ids.has(n.broker), `${f}: missing broker ${n.broker}`);
      }
      // flows carry no credentials: they are never exported
      assert.ok(!JSON.stringify(flow).includes('"credentials"'), `${f} carries credentials`);
      assert.ok(!/rtsps?:\/\/[^"/]*@/.test(JSON.stringify(flow)), `${f} has credentials in a URL`);
    }
  });

  test('together they use every non-config node type', () => {
    const used = new Set(flows.flatMap(({ flow }) => (flow as { type: string }[]).map((n) => n.type)));
    for (const t of ['rtsp-mjpeg in', 'rtcp stats', 'mjpeg http out']) assert.ok(used.has(t), t);
  });
});
