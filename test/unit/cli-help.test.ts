/**
 * The command line explains itself: `rtsp-mjpeg --help` lists every command with every option
 * its parser takes, `rtsp-mjpeg <command> --help` prints that command's usage (exit 0, no
 * error), and a busy port names the option to change.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { USAGE, commandUsage, main } from '../../src/cli';
import { USAGE as DEMO_CAMERA_USAGE } from '../../src/sim/cli-entry';

const ROOT = join(__dirname, '..', '..');

function run(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT });
    let out = ''; let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out, err }); });
  });
}

/** the `case '…':` labels of a parser function in a source file: the options it accepts */
function parserOptions(file: string, fn: string): string[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const start = src.indexOf(`export function ${fn}(`);
  assert.ok(start >= 0, `${fn} in ${file}`);
  const body = src.slice(start, src.indexOf('\n}\n', start));
  return [...body.matchAll(/case '([a-z-]+)':/g)].map((m) => m[1]!).filter((o) => o !== 'help' && o !== 'h' && o !== 'password');
}

/** the commands main() dispatches */
function dispatchedCommands(): string[] {
  const src = readFileSync(join(ROOT, 'src', 'cli.ts'), 'utf8');
  const body = src.slice(src.indexOf('export async function main('));
  return [...new Set([...body.matchAll(/cmd [!=]== '([a-z][a-z-]*)'/g)].map((m) => m[1]!))].filter((c) => c !== 'help');
}

describe('rtsp-mjpeg --help', () => {
  test('lists every command main() runs, each with every option its parser takes', () => {
    const commands = dispatchedCommands();
    assert.ok(commands.includes('probe') && commands.includes('grab') && commands.includes('demo-camera'), commands.join(', '));
    for (const c of commands) assert.ok(commandUsage(c), `USAGE has a line for ${c}`);
    for (const c of ['probe', 'grab']) {
      const line = commandUsage(c)!.split('\n')[1]!;
      for (const o of parserOptions('src/cli.ts', 'parseCliArgs')) {
        // --frames and --out belong to grab
        if (c === 'probe' && (o === 'frames' || o === 'out')) continue;
        assert.ok(line.includes(`--${o}`), `${c}: --${o} in "${line}"`);
      }
    }
    const demoLine = commandUsage('demo-camera')!.split('\n')[1]!;
    for (const o of parserOptions('src/sim/cli-entry.ts', 'parseDemoCameraArgs')) {
      assert.ok(demoLine.includes(`--${o}`), `demo-camera: --${o} in the top-level usage`);
      assert.ok(DEMO_CAMERA_USAGE.includes(`--${o}`), `demo-camera: --${o} in its own usage`);
    }
  });

  test('`<command> --help` and `help <command>`: that command\'s usage on stdout, exit 0, no error', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };
    for (const c of dispatchedCommands()) {
      for (const argv of [[c, '--help'], [c, 'rtsp://cam/x', '-h'], ['help', c]]) {
        lines.length = 0;
        assert.equal(await main(argv, {}, io), 0, argv.join(' '));
        const text = lines.join('\n');
        assert.ok(!/error/i.test(text) && !text.includes('ERR '), `${argv.join(' ')}: ${text}`);
        assert.match(text, new RegExp(`^usage:\\n  rtsp-mjpeg ${c}( |$)`, 'm'));
        assert.ok(!text.includes('rtsp-mjpeg grab') || c === 'grab', `${argv.join(' ')} prints only its own command`);
      }
    }
    lines.length = 0;
    assert.equal(await main(['--help'], {}, io), 0);
    assert.equal(lines.join('\n'), USAGE);
  });

  test('the built CLI: demo-camera --help prints its usage and exits 0', async () => {
    const r = await run(['demo-camera', '--help']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.match(r.out, /^usage:\n {2}rtsp-mjpeg demo-camera \[--port 8554\]/);
    assert.match(r.out, /--port P +RTSP port/);
  });

  test('demo-camera on a busy port names --port', async (t) => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const port = (server.address() as { port: number }).port;
    const r = await run(['demo-camera', '--port', String(port)]);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim(), `error: port ${port} on 127.0.0.1 is in use: choose another with --port (--port 0 takes any free port)`);
  });
});
