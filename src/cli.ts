#!/usr/bin/env node
/**
 * `rtsp-mjpeg` command line: probe a camera, grab frames to files, or run the demo camera.
 * The password comes from RTSP_PASSWORD (or percent-encoded in the URL), never from an
 * argument, so it stays out of the process list; every printed line is redacted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCamera } from './camera/open';
import { CameraError, type CameraErrorReason } from './errors';
import { parseRtspUrl } from './rtsp/url';
import { parseHttpUrl } from './mjpeg/http-url';
import { redactText } from './rtsp/redact';
import { secretList } from './rtsp/credentials';
import type { CameraOptions, StateChange, TrackInfo, TransportMode } from './camera/types';
import type { CameraSession } from './camera/session';

export const USAGE = `usage: rtsp-mjpeg <command> [options]     (rtsp-mjpeg <command> --help: one command in detail)
  rtsp-mjpeg probe <url> [--transport tcp|auto|udp|multicast|http] [--username U] [--timeout S] [--snapshot-fps R]
  rtsp-mjpeg grab <url> --frames N --out DIR [--transport ...] [--username U] [--timeout S] [--snapshot-fps R]
  rtsp-mjpeg demo-camera [--port 8554] [--host 127.0.0.1] [--path /demo] [--width 640] [--height 480] [--fps 15] [--auth none|basic|digest --username U] [--transport udp|tcp|udp+tcp] [--audio] [--onvif-port 8580] [--discovery-port 3702] [--no-onvif] [--scene] [--http-port 8081]
  rtsp-mjpeg discover [--timeout S] [--host H[:PORT]]... [--no-multicast] [--json]
  rtsp-mjpeg onvif <device-service URL | host[:port]> [--username U] [--timeout S] [--json]
<url>: rtsp:// or rtsps://, or http(s):// for an MJPEG stream or a snapshot URL
(e.g. http://cam:81/stream, http://cam/capture; snapshots polled at --snapshot-fps, default 1).
Transport http: RTSP tunnelled over HTTP (GET + POST), port 80 unless the URL names one.
Password: environment variable RTSP_PASSWORD (or percent-encoded in the URL).
probe and grab keep retrying (a busy or failing server, a lost or refused connection) until
--timeout (default 15 s), and exit 1 at once only on a permanent error: auth failed, not found,
unsupported codec, not a JPEG source, unsupported transport, redirect refused, invalid url.`;

/** What `rtsp-mjpeg <command> --help` prints below the command's line of USAGE. */
const DETAILS: Readonly<Record<string, string>> = {
  probe: `Connects, waits for one frame, prints the tracks, codec, size, frame rate and the transport
used, and exits 0; exits 1 with the reason when the camera cannot deliver Motion-JPEG.
  --transport T   tcp (default: works through NAT and firewalls), auto (UDP, else TCP), udp,
                  multicast, http (RTSP tunnelled over HTTP, port 80 unless the URL names one)
  --username U    the camera's user name; the password comes from RTSP_PASSWORD
  --timeout S     keep retrying a busy or failing server or a refused connection for S seconds
                  (default 15); auth failed, not found and unsupported codec end at once
  --snapshot-fps R   for a snapshot URL: pictures asked for per second (default 1)
<url> may also be http(s):// for an MJPEG stream or a snapshot URL (e.g. http://cam:81/stream)`,
  grab: `Writes N frames to DIR/frame-000001.jpg ... and prints the final statistics as one JSON line.
  --frames N      how many frames (default 1)
  --out DIR       where to write them (created if missing)
  --transport T   as for probe
  --username U    the camera's user name; the password comes from RTSP_PASSWORD
  --timeout S     give up after S seconds (default 15); exit 1 with the last reason
  --snapshot-fps R   for a snapshot URL: pictures asked for per second (default 1)`,
  'demo-camera': `Runs the built-in demo camera (a moving test pattern with a frame counter and a clock) and
prints its URL; Ctrl-C stops it.
  --port P        RTSP port (default 8554; 0 takes any free port)
  --host H        address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)
  --path /P       stream path (default /demo)
  --width W, --height H, --fps F   picture size and frame rate (default 640x480 at 15)
  --auth none|basic|digest --username U   ask for credentials; the password comes from RTSP_PASSWORD
  --transport udp|tcp|udp+tcp   the RTP transports it offers (default both)
  --audio         add a PCMU audio track
  --onvif-port P  its ONVIF device service (default 8580, another free one if taken)
  --discovery-port P   its WS-Discovery answers (UDP, default 3702); --no-onvif: neither
  --scene         play the scripted scene (a figure walks across twice a minute, lights switch)
  --http-port P   also serve an HTTP MJPEG stream (/stream) and snapshots (/capture) on port P`,
  discover: `Finds ONVIF cameras: a WS-Discovery probe on every network interface, and one to each --host;
prints one line per camera (name, hardware, address, device-service URL), exit 0 even if none.
  --timeout S     how long to listen for answers
  --host H[:PORT] also ask this address directly (a camera in another subnet); repeatable
  --no-multicast  ask only the --host addresses
  --json          an array of { xaddrs, scopes, name, hardware, endpoint }`,
  onvif: `Asks one ONVIF camera for its device information and profiles and prints the RTSP URL of its
Motion-JPEG profile; exit 1 when it has none or refuses the credentials.
  --username U    the camera's user name; the password comes from RTSP_PASSWORD
  --timeout S     give up after S seconds
  --json          { device, profiles, jpegStreamUri, clockOffsetMs }`,
};

/** `command`'s line of USAGE and its details, or null for an unknown command. */
export function commandUsage(command: string): string | null {
  const lines = USAGE.split('\n').filter((l) => l === `  rtsp-mjpeg ${command}` || l.startsWith(`  rtsp-mjpeg ${command} `));
  if (lines.length === 0) return null;
  const details = DETAILS[command];
  return `usage:\n${lines.join('\n')}${details ? `\n${details}` : ''}`;
}

const usageOf = (command: string): string => commandUsage(command) ?? USAGE;

export interface CliArgs {
  command: string;
  url: string;
  transport: TransportMode;
  username: string | undefined;
  frames: number;
  out: string | undefined;
  timeoutSec: number;
  /** snapshot URLs: polls per second */
  snapshotFps: number | undefined;
  help: boolean;
}

/** Parses probe/grab arguments; throws an Error with a usage hint on bad input. */
export function parseCliArgs(argv: string[]): CliArgs {
  const usage = usageOf(argv[0] ?? '');
  const args: CliArgs = { command: argv[0] ?? '', url: '', transport: 'tcp', username: undefined, frames: 1, out: undefined, timeoutSec: 15, snapshotFps: undefined, help: false };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : null;
    const value = (): string => {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Error(`--${name} needs a value\n${usage}`);
      return v;
    };
    if (name === null) {
      if (args.url) throw new Error(`unexpected argument\n${usage}`);
      args.url = a;
      continue;
    }
    switch (name) {
      case 'help': case 'h': args.help = true; break;
      case 'transport': {
        const v = value();
        if (v !== 'tcp' && v !== 'auto' && v !== 'udp' && v !== 'multicast' && v !== 'http') throw new Error(`--transport must be tcp, auto, udp, multicast or http\n${usage}`);
        args.transport = v;
        break;
      }
      case 'username': args.username = value(); break;
      case 'frames': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 1e6) throw new Error(`--frames needs a whole number ≥ 1\n${usage}`);
        args.frames = n;
        break;
      }
      case 'out': args.out = value(); break;
      case 'timeout': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0 || n > 86400) throw new Error(`--timeout needs seconds > 0\n${usage}`);
        args.timeoutSec = n;
        break;
      }
      case 'snapshot-fps': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0 || n > 30) throw new Error(`--snapshot-fps needs a rate > 0 and ≤ 30\n${usage}`);
        args.snapshotFps = n;
        break;
      }
      case 'password': throw new Error('pass the password in the RTSP_PASSWORD environment variable, not as an argument');
      default: throw new Error(`unknown option --${name}\n${usage}`);
    }
  }
  if (!args.help) {
    if (!args.url) throw new Error(`missing <url>\n${usage}`);
    if (!parseRtspUrl(args.url) && !parseHttpUrl(args.url)) throw new Error('invalid url: expected rtsp://host[:port]/path, rtsps://..., or http(s)://host[:port]/path');
    if (args.command === 'grab' && !args.out) throw new Error(`grab needs --out DIR\n${usage}`);
  }
  return args;
}

interface Io {
  out(line: string): void;
  err(line: string): void;
}

function cameraOptions(args: CliArgs, env: NodeJS.ProcessEnv): CameraOptions {
  const o: CameraOptions = { transport: args.transport, reconnectMinMs: 500, reconnectMaxMs: 2000 };
  if (args.username !== undefined) o.username = args.username;
  if (env['RTSP_PASSWORD']) o.password = env['RTSP_PASSWORD'];
  if (args.snapshotFps !== undefined) o.snapshotFps = args.snapshotFps;
  return o;
}

/**
 * Errors that no retry cures within a command's timeout: the camera said no, or the URL is
 * wrong. Anything else (a busy server, a refused or lost connection, a timeout) is retried by
 * the session, as in the nodes, until --timeout ends.
 */
const PERMANENT: ReadonlySet<CameraErrorReason> = new Set<CameraErrorReason>([
  'auth failed', 'not found', 'unsupported codec', 'not a JPEG source', 'unsupported transport', 'redirect refused', 'invalid url',
]);

/**
 * `failed` resolves on a permanent failure (or the session closing by itself); `last()` is the
 * latest error seen, for the report when the timeout ends first.
 */
function watchFailures(cam: CameraSession): { failed: Promise<CameraError>; last(): CameraError | null } {
  let last: CameraError | null = null;
  const failed = new Promise<CameraError>((resolve) => {
    cam.on('error', (e) => { last = e; });
    cam.on('state', (c: StateChange) => {
      const permanent = c.state === 'reconnecting' && c.reason !== undefined && PERMANENT.has(c.reason);
      if (permanent || (c.state === 'closed' && c.reason !== 'closed')) {
        resolve(last ?? new CameraError(c.reason ?? 'connection lost', c.reason ?? 'connection lost'));
      }
    });
  });
  return { failed, last: () => last };
}

function timeout(ms: number): { promise: Promise<'timeout'>; cancel(): void } {
  let t: NodeJS.Timeout | undefined;
  const promise = new Promise<'timeout'>((resolve) => { t = setTimeout(() => resolve('timeout'), ms); });
  return { promise, cancel: () => clearTimeout(t) };
}

function describeTrack(t: TrackInfo): string {
  const size = t.width && t.height ? ` ${t.width}x${t.height}` : '';
  const fps = t.fps ? ` ${t.fps} fps` : '';
  return `${t.kind} ${t.encoding}/${t.clockRate} pt=${t.payloadType}${size}${fps} control=${t.control}`;
}

async function probe(args: CliArgs, env: NodeJS.ProcessEnv, io: Io, secrets: string[]): Promise<number> {
  const cam = openCamera(args.url, cameraOptions(args, env));
  const failures = watchFailures(cam);
  const failed = failures.failed;
  const firstFrame = new Promise<'frame'>((resolve) => cam.once('frame', () => resolve('frame')));
  const t = timeout(args.timeoutSec * 1000);
  const r = await Promise.race([failed, firstFrame, t.promise]);
  t.cancel();
  // one more second of frames for a measured rate
  if (r === 'frame') await new Promise((res) => setTimeout(res, 1000));
  const stats = cam.getStats();
  const tracks = cam.tracks;
  await cam.close();
  const red = (s: string): string => redactText(s, secrets);
  if (r instanceof CameraError) { io.err(red(`error: ${r.reason}: ${r.message}`)); return 1; }
  if (r === 'timeout') {
    const last = failures.last();
    io.err(red(last ? `error: ${last.reason}: ${last.message} (still failing after ${args.timeoutSec} s)` : 'error: timeout: no frame within the timeout'));
    return 1;
  }
  io.out(red(`url: ${cam.url}`));
  if (stats.transport === 'http-mjpeg' || stats.transport === 'http-snapshot') {
    io.out(`kind: ${stats.transport === 'http-mjpeg' ? 'MJPEG stream over HTTP (multipart/x-mixed-replace)' : 'snapshot URL (one JPEG per request, polled)'}`);
    io.out('codec: JPEG');
  } else {
    for (const tr of tracks) io.out(red(`track: ${describeTrack(tr)}`));
    io.out(`codec: JPEG (RFC 2435)`);
  }
  io.out(`size: ${stats.width}x${stats.height}`);
  io.out(`fps: ${stats.fps}`);
  io.out(`transport: ${stats.transport ?? 'none'}`);
  return 0;
}

async function grab(args: CliArgs, env: NodeJS.ProcessEnv, io: Io, secrets: string[]): Promise<number> {
  const dir = args.out!;
  mkdirSync(dir, { recursive: true });
  const cam = openCamera(args.url, cameraOptions(args, env));
  const failures = watchFailures(cam);
  const failed = failures.failed;
  let written = 0;
  let writeError: Error | null = null;
  const done = new Promise<'done'>((resolve) => {
    cam.on('frame', (jpeg) => {
      if (written >= args.frames || writeError) return;
      try {
        writeFileSync(join(dir, `frame-${String(written + 1).padStart(6, '0')}.jpg`), jpeg);
        written++;
      } catch (e) {
        writeError = e as Error;
        resolve('done');
        return;
      }
      if (written >= args.frames) resolve('done');
    });
  });
  const t = timeout(args.timeoutSec * 1000);
  const r = await Promise.race([failed, done, t.promise]);
  t.cancel();
  await cam.close();
  // read after close: the session is 'closed' now, not 'reconnecting' as it was when it gave up
  const stats = cam.getStats();
  // on a timeout, the last reason the camera gave (a busy server, a refused connection), if any
  const last = r === 'timeout' && written < args.frames ? failures.last() : null;
  const failure = r instanceof CameraError ? r.reason : r === 'timeout' && written < args.frames ? last?.reason ?? 'timeout' : null;
  const red = (s: string): string => redactText(s, secrets);
  io.out(red(JSON.stringify({ ...stats, state: failure ? 'failed' : 'closed', reason: failure, framesWritten: written })));
  if (writeError) { io.err(`error: cannot write frames: ${(writeError as Error).message}`); return 1; }
  if (r instanceof CameraError) { io.err(red(`error: ${r.reason}: ${r.message}`)); return 1; }
  if (r === 'timeout') {
    const counted = `${written} of ${args.frames} frames within ${args.timeoutSec} s`;
    io.err(red(last ? `error: ${last.reason}: ${last.message} (still failing after ${args.timeoutSec} s; ${counted})` : `error: timeout: ${counted}`));
    return 1;
  }
  return 0;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, io: Io = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
}): Promise<number> {
  const cmd = argv[0];
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    // `rtsp-mjpeg help probe` is `rtsp-mjpeg probe --help`
    const one = cmd === 'help' && argv[1] ? commandUsage(argv[1]) : null;
    io.out(one ?? USAGE);
    return cmd ? 0 : 2;
  }
  // `<command> --help` anywhere on the line prints that command's usage, before any other check
  if (argv.slice(1).some((a) => a === '--help' || a === '-h')) {
    const one = commandUsage(cmd);
    if (one) { io.out(one); return 0; }
  }
  if (cmd === 'demo-camera') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runDemoCameraCli } = require('./sim/cli-entry') as typeof import('./sim/cli-entry');
    await runDemoCameraCli(argv.slice(1));
    return 0;
  }
  if (cmd === 'discover' || cmd === 'onvif') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const onvif = require('./onvif-cli') as typeof import('./onvif-cli');
    return cmd === 'discover' ? onvif.runDiscover(argv.slice(1), io) : onvif.runOnvif(argv.slice(1), env, io);
  }
  if (cmd !== 'probe' && cmd !== 'grab') { io.err(`unknown command ${cmd}\n${USAGE}`); return 2; }
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (e) {
    io.err(redactText((e as Error).message, secretList(env['RTSP_PASSWORD'])));
    return 2;
  }
  if (args.help) { io.out(usageOf(cmd)); return 0; }
  const url = parseRtspUrl(args.url) ?? parseHttpUrl(args.url);
  const secrets = secretList(env['RTSP_PASSWORD'], url?.password);
  return cmd === 'probe' ? probe(args, env, io, secrets) : grab(args, env, io, secrets);
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(redactText(`error: ${e instanceof Error ? e.message : String(e)}`, [process.env['RTSP_PASSWORD']]) + '\n');
    process.exitCode = 1;
  });
}
