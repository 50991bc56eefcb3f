/**
 * A real Node-RED 4 runtime recording a clip, for the crash test in record-players.test.ts:
 * the package laid out as the build lays it out (node files loading the TypeScript sources),
 * a flow of camera → `mjpeg record` triggered once at deploy, and nothing else. Prints READY,
 * then records until it is killed.
 *
 * usage: node --import tsx record-crash-child.ts <userDir> <rtsp url>
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const [userDir, url] = process.argv.slice(2) as [string, string];
const root = join(__dirname, '..', '..');
const req = createRequire(join(root, 'package.json'));
const RED = req('node-red') as { init(server: unknown, settings: Record<string, unknown>): void; start(): Promise<void> };

const pkgDir = join(userDir, 'pkg');
mkdirSync(join(pkgDir, 'nodes'), { recursive: true });
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
writeFileSync(join(pkgDir, 'package.json'), JSON.stringify(pkg));
cpSync(join(root, 'nodes', 'locales'), join(pkgDir, 'nodes', 'locales'), { recursive: true });
cpSync(join(root, 'icons'), join(pkgDir, 'nodes', 'icons'), { recursive: true });
for (const file of Object.values(pkg['node-red'].nodes)) {
  const base = file.replace(/^nodes\//, '').replace(/\.js$/, '');
  cpSync(join(root, 'nodes', `${base}.html`), join(pkgDir, 'nodes', `${base}.html`));
  writeFileSync(join(pkgDir, 'nodes', `${base}.js`), `module.exports = require(${JSON.stringify(join(root, 'src', 'nodes', `${base}.ts`))});\n`);
}
writeFileSync(join(userDir, 'flows.json'), JSON.stringify([
  { id: 'tab', type: 'tab', label: 'crash' },
  { id: 'cam', type: 'rtsp-camera', name: 'demo', url, transport: 'tcp' },
  { id: 'rec', type: 'mjpeg record', z: 'tab', camera: 'cam', preRoll: 0, postRoll: 0, maxLength: 600, folder: 'clips', maxAgeDays: 0, maxSizeMB: 0, wires: [[], []] },
  { id: 'go', type: 'inject', z: 'tab', props: [{ p: 'payload' }], once: true, onceDelay: '0.1', payload: 'start', payloadType: 'str', repeat: '', wires: [['rec']] },
]));
RED.init(createServer(), {
  userDir,
  flowFile: 'flows.json',
  credentialSecret: 'crash-test-only',
  httpAdminRoot: false,
  httpNodeRoot: false,
  nodesDir: [pkgDir],
  logging: { console: { level: 'warn' } },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
});
RED.start().then(() => process.stdout.write('READY\n'), (e: unknown) => {
  process.stderr.write(`start failed: ${String(e)}\n`);
  process.exit(1);
});
