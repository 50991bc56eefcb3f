/**
 * `rtsp-mjpeg discover` and `rtsp-mjpeg onvif`: find ONVIF cameras (WS-Discovery) and read one
 * camera's profiles and the RTSP URI of its Motion-JPEG profile. The password comes from
 * RTSP_PASSWORD (or percent-encoded in the URL), never from an argument; every line printed is
 * redacted. The --json shapes are a contract (ARCHITECTURE.md, "CLI").
 */
import { CameraError } from './errors';
import { redactText } from './rtsp/redact';
import { pickLogin } from './rtsp/credentials';
import { discover, parseHostPort, type DiscoveredDevice, type DiscoveryHost } from './onvif/discovery';
import { queryDevice, type OnvifDeviceReport } from './onvif/device';
import { parseDeviceUrl } from './onvif/device-url';

export const ONVIF_USAGE = `  rtsp-mjpeg discover [--timeout S] [--host H[:PORT]]... [--no-multicast] [--json]
  rtsp-mjpeg onvif <device-service URL | host[:port]> [--username U] [--timeout S] [--json]`;

interface Io {
  out(line: string): void;
  err(line: string): void;
}

interface Parsed { positional: string[]; flags: Map<string, string[]> }

const BOOLEAN = new Set(['json', 'no-multicast', 'help', 'h']);

function parseArgs(argv: string[], known: string[]): Parsed {
  const out: Parsed = { positional: [], flags: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') && a !== '-h') { out.positional.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a === '-h' ? 'h' : a.slice(2, eq > 0 ? eq : undefined);
    if (name === 'password') throw new Error('pass the password in the RTSP_PASSWORD environment variable, not as an argument');
    if (!known.includes(name)) throw new Error(`unknown option --${name}`);
    let value = 'true';
    if (!BOOLEAN.has(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Error(`--${name} needs a value`);
      value = v;
    }
    out.flags.set(name, [...(out.flags.get(name) ?? []), value]);
  }
  return out;
}

function seconds(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 600) throw new Error('--timeout needs seconds (0 < S ≤ 600)');
  return n;
}

/** The --json element of `discover` (contract: exactly these keys). */
export function discoverJson(d: DiscoveredDevice): { xaddrs: string[]; scopes: string[]; name: string | null; hardware: string | null; endpoint: string } {
  return { xaddrs: d.xaddrs, scopes: d.scopes, name: d.name, hardware: d.hardware, endpoint: d.endpoint };
}

/** The --json object of `onvif` (contract: exactly these keys). */
export function onvifJson(r: OnvifDeviceReport): Record<string, unknown> {
  return {
    device: { manufacturer: r.device.manufacturer, model: r.device.model, firmware: r.device.firmware, serial: r.device.serial },
    profiles: r.profiles.map((p) => ({ token: p.token, name: p.name, encoding: p.encoding, width: p.width, height: p.height, fps: p.fps, streamUri: p.streamUri, snapshotUri: p.snapshotUri })),
    jpegStreamUri: r.jpegStreamUri,
    clockOffsetMs: r.clockOffsetMs,
  };
}

export async function runDiscover(argv: string[], io: Io): Promise<number> {
  let args: Parsed;
  const hosts: DiscoveryHost[] = [];
  let timeoutSec: number;
  try {
    args = parseArgs(argv, ['timeout', 'host', 'json', 'no-multicast', 'help', 'h']);
    if (args.flags.has('help') || args.flags.has('h')) { io.out(`usage:\n${ONVIF_USAGE}`); return 0; }
    if (args.positional.length > 0) throw new Error(`unexpected argument ${args.positional[0]}`);
    timeoutSec = seconds(args.flags.get('timeout')?.at(-1), 3);
    for (const h of args.flags.get('host') ?? []) {
      const hp = parseHostPort(h);
      if (!hp) throw new Error(`--host ${h}: expected a host name or address, optionally with :PORT`);
      hosts.push(hp);
    }
  } catch (e) {
    io.err(`${(e as Error).message}\nusage:\n${ONVIF_USAGE}`);
    return 2;
  }
  const multicast = !args.flags.has('no-multicast');
  const r = await discover({ timeoutMs: timeoutSec * 1000, hosts, multicast });
  if (args.flags.has('json')) {
    io.out(JSON.stringify(r.devices.map(discoverJson)));
  } else {
    for (const d of r.devices) {
      io.out(`${d.name ?? '(no name)'}  hardware: ${d.hardware ?? '?'}  address: ${d.address}  ${d.deviceUrl ?? d.xaddrs.join(' ')}`);
    }
    if (r.devices.length === 0) {
      io.out(`no ONVIF device answered within ${timeoutSec} s${multicast ? '' : ' (multicast off)'}; a camera in another subnet, or Node-RED in a container without host networking, needs --host ADDRESS`);
    } else {
      io.out(`${r.devices.length} device${r.devices.length === 1 ? '' : 's'} found; rtsp-mjpeg onvif <URL> lists a device's profiles and its Motion-JPEG stream`);
    }
  }
  if (r.malformed > 0) io.err(`${r.malformed} malformed repl${r.malformed === 1 ? 'y' : 'ies'} ignored`);
  if (r.truncated) io.err('stopped at the device limit (256)');
  for (const p of r.problems) io.err(`note: ${p}`);
  return 0;
}

function describeProfile(p: OnvifDeviceReport['profiles'][number]): string {
  const size = p.width && p.height ? ` ${p.width}x${p.height}` : '';
  const fps = p.fps ? ` ${p.fps} fps` : '';
  return `profile ${p.token}${p.name ? ` "${p.name}"` : ''}: ${p.encoding ?? 'no video'}${size}${fps}`;
}

export async function runOnvif(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  let args: Parsed;
  try {
    args = parseArgs(argv, ['username', 'timeout', 'json', 'help', 'h']);
    if (args.flags.has('help') || args.flags.has('h')) { io.out(`usage:\n${ONVIF_USAGE}`); return 0; }
    if (args.positional.length !== 1) throw new Error(args.positional.length === 0 ? 'missing <device-service URL | host[:port]>' : `unexpected argument ${args.positional[1]}`);
  } catch (e) {
    io.err(redactText(`${(e as Error).message}\nusage:\n${ONVIF_USAGE}`, [env['RTSP_PASSWORD']]));
    return 2;
  }
  const target = parseDeviceUrl(args.positional[0]!);
  // the CLI's --username and RTSP_PASSWORD before the URL's userinfo
  const login = pickLogin({ username: args.flags.get('username')?.at(-1), password: env['RTSP_PASSWORD'] }, target);
  const red = (s: string): string => redactText(s, login.secrets);
  if (!target) { io.err(red('invalid url: expected http://host[:port]/onvif/device_service or host[:port]')); return 2; }
  let timeoutSec: number;
  try { timeoutSec = seconds(args.flags.get('timeout')?.at(-1), 10); } catch (e) { io.err((e as Error).message); return 2; }
  const { username, password } = login;
  let report: OnvifDeviceReport;
  try {
    report = await queryDevice(target.url, { username, password, timeoutMs: timeoutSec * 1000 });
  } catch (e) {
    const err = e instanceof CameraError ? e : new CameraError('protocol error', String(e));
    const hint = err.reason === 'auth failed' && !password ? ' (set the password in RTSP_PASSWORD, the user with --username)' : '';
    io.err(red(`error: ${err.reason}: ${err.message}${hint}`));
    return 1;
  }
  if (args.flags.has('json')) {
    io.out(red(JSON.stringify(onvifJson(report))));
  } else {
    const d = report.device;
    io.out(red(`device: ${[d.manufacturer, d.model].filter(Boolean).join(' ') || '(no information)'}${d.firmware ? ` firmware ${d.firmware}` : ''}${d.serial ? ` serial ${d.serial}` : ''}`));
    const off = report.clockOffsetMs / 1000;
    io.out(`clock offset: ${off >= 0 ? '+' : ''}${off.toFixed(1)} s (the camera's clock minus this computer's)${Math.abs(off) > 60 ? '; WS-Security was corrected for it' : ''}`);
    io.out(`media service: ${report.media === 2 ? 'Media 2' : 'Media'}`);
    for (const p of report.profiles) {
      io.out(red(describeProfile(p)));
      io.out(red(`  stream:   ${p.streamUri ?? '(none)'}`));
      io.out(red(`  snapshot: ${p.snapshotUri ?? '(none)'}`));
    }
    if (report.jpegStreamUri) io.out(red(`Motion-JPEG stream: ${report.jpegStreamUri}  (profile ${report.jpegProfileToken})`));
  }
  if (!report.jpegStreamUri) {
    io.err(red(`error: ${report.reason ?? 'no Motion-JPEG profile'}`));
    return 1;
  }
  return 0;
}
