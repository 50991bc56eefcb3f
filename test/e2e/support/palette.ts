/**
 * What a user sees after installing the package: the three node types in the palette
 * (admin API `/nodes`), loaded from the user directory without errors, their editor
 * templates and help, the icons, and the example flows in Import → Examples.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './package-tarball';
import { PACKAGE, TYPES, type NodeRed } from './node-red';

interface NodeSet { id: string; module: string; types: string[]; enabled: boolean; local?: boolean; version?: string; err?: string }

export async function checkPalette(nr: NodeRed): Promise<void> {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const sets = (await nr.getJson<NodeSet[]>('/nodes')).filter((s) => s.module === PACKAGE);
  assert.deepEqual(sets.flatMap((s) => s.types).sort(), [...TYPES].sort(), 'node types of the package in /nodes');
  for (const s of sets) {
    assert.equal(s.err, undefined, `${s.id} failed to load: ${s.err}`);
    assert.equal(s.enabled, true, `${s.id} enabled`);
    assert.equal(s.version, version, `${s.id} version`);
    assert.equal(s.local, true, `${s.id} is loaded from the user directory's node_modules`);
  }

  // editor side: templates and help as the editor fetches them
  const html = await nr.http('GET', '/nodes', undefined, { accept: 'text/html' });
  assert.equal(html.status, 200);
  for (const t of TYPES) {
    assert.ok(html.text.includes(`data-template-name="${t}"`), `edit template for ${t}`);
    const m = new RegExp(`<script type="text/html" data-help-name="${t}"[^>]*>([\\s\\S]*?)</script>`).exec(html.text);
    assert.ok(m, `help for ${t}`);
    assert.ok(m[1]!.replace(/<[^>]+>/g, '').trim().length > 100, `help for ${t} has text`);
  }
  assert.ok(html.text.includes('RED.nodes.registerType("rtsp-camera"'), 'rtsp-camera registers in the editor');

  // icons: listed for the module and served with the package's bytes (Node-RED answers an
  // unknown icon with a default one, hence the byte comparison)
  const icons = await nr.getJson<Record<string, string[]>>('/icons');
  const shipped = readdirSync(join(ROOT, 'icons')).filter((f) => f.endsWith('.svg') || f.endsWith('.png')).sort();
  assert.deepEqual([...(icons[PACKAGE] ?? [])].sort(), shipped, 'icons listed for the package');
  for (const f of shipped) {
    const r = await nr.http('GET', `/icons/${PACKAGE}/${f}`);
    assert.equal(r.status, 200, `icon ${f}`);
    assert.ok(r.body.equals(readFileSync(join(ROOT, 'icons', f))), `icon ${f} is the package's file`);
  }

  // examples: listed under the module and each one loads as a flow using the package's nodes
  const modules = await nr.getJson<string[]>('/library/examples/flows/');
  assert.ok(modules.includes(PACKAGE), `examples list has ${PACKAGE}: ${modules.join(', ')}`);
  const listing = await nr.getJson<{ fn?: string }[]>(`/library/examples/flows/${PACKAGE}`);
  const expected = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  assert.deepEqual(listing.map((e) => e.fn).sort(), expected, 'example names');
  for (const name of expected) {
    const flow = await nr.getJson<{ type: string }[]>(`/library/examples/flows/${PACKAGE}/${encodeURIComponent(name)}`);
    assert.ok(Array.isArray(flow) && flow.some((n) => TYPES.includes(n.type)), `example "${name}" uses the package's nodes`);
  }
}
