/**
 * One name per node wherever a user reads it: the palette label (which Node-RED also uses as
 * the help sidebar's title and in the edit dialog) is `rtsp camera` or `rtsp camera <role>`,
 * the README's heading for the node is that label, the examples' comments use it, and the
 * type (which flow files and the Info sidebar show) is named under the heading.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** type → palette label, from every nodes/*.html */
function paletteLabels(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(join(ROOT, 'nodes')).filter((x) => x.endsWith('.html'))) {
    const html = readFileSync(join(ROOT, 'nodes', f), 'utf8');
    for (const m of html.matchAll(/RED\.nodes\.registerType\(\s*"([^"]+)"\s*,\s*\{([\s\S]*?)\n {4}\}\);/g)) {
      const label = /\bpaletteLabel:\s*"([^"]+)"/.exec(m[2]!);
      assert.ok(label, `${f}: ${m[1]} has a paletteLabel`);
      out.set(m[1]!, label[1]!);
    }
  }
  return out;
}

/** the `### \`name\`` headings of the README's "## Nodes" section, with their text */
function readmeNodeSections(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Nodes\n');
  assert.ok(start >= 0, 'README has a Nodes section');
  const end = readme.indexOf('\n## ', start + 5);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const out = new Map<string, string>();
  const parts = section.split(/\n### /).slice(1);
  for (const p of parts) {
    const m = /^`([^`]+)`/.exec(p);
    assert.ok(m, `README node heading "${p.split('\n')[0]}" is the node's name in backticks`);
    out.set(m[1]!, p);
  }
  return out;
}

test('palette labels follow one rule: "rtsp camera" or "rtsp camera <role>"', () => {
  const labels = paletteLabels();
  assert.ok(labels.size >= 4, [...labels.keys()].join(', '));
  for (const [type, label] of labels) assert.match(label, /^rtsp camera( [a-z]+)?$/, `${type}: "${label}"`);
  assert.equal(new Set(labels.values()).size, labels.size, 'no two nodes share a name');
});

test('the README\'s node headings are the palette labels, and each names its type', () => {
  const labels = paletteLabels();
  const sections = readmeNodeSections();
  assert.deepEqual([...sections.keys()].sort(), [...labels.values()].sort(), 'README headings = palette labels');
  for (const [type, label] of labels) assert.ok(sections.get(label)!.includes(`type \`${type}\``) || sections.get(label)!.includes(`Type \`${type}\``), `README "${label}" names its type ${type}`);
});

test('examples and the demo flow call nodes by their names, not by their types', () => {
  const types = [...paletteLabels().keys()];
  const files = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => join('examples', f));
  files.push(join('scripts', 'demo', 'flow.json'));
  for (const f of files) {
    const flow = JSON.parse(readFileSync(join(ROOT, f), 'utf8')) as Record<string, unknown>[];
    const text = flow.filter((n) => n.type === 'comment' || n.type === 'tab').map((n) => `${String(n.name ?? n.label)} ${String(n.info ?? '')}`).join('\n');
    for (const t of types) assert.ok(!text.includes(t), `${f}: says "${t}" (a type) instead of the node's name`);
    assert.ok(!/rtsp mjpeg node/i.test(text), `${f}: an old name`);
  }
});
