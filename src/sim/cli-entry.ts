/**
 * `rtsp-mjpeg demo-camera`: runs the built-in demo camera until SIGINT/SIGTERM.
 * The password comes from the environment (RTSP_PASSWORD) so it stays out of the process list.
 */
import { startDemoCamera, type DemoCameraOptions } from './demo-camera';
import { cliOnvifDefaults, describeOnvif } from './onvif-demo';

export const USAGE = 'usage: rtsp-mjpeg demo-camera [--port 8554] [--host 127.0.0.1] [--path /demo] [--width 640] [--height 480] [--fps 15] [--auth none|basic|digest --username U] [--transport udp|tcp|udp+tcp] [--audio] [--onvif-port 8580] [--discovery-port 3702] [--no-onvif] [--scene] [--http-port 8081]   (password: env RTSP_PASSWORD)';

/** Parse the demo-camera arguments; throws an Error with a usage hint on bad input. */
export function parseDemoCameraArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DemoCameraOptions {
  const o: DemoCameraOptions = { port: 8554, host: '127.0.0.1' };
  const num = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} needs a number ${min}..${max}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
    switch (name) {
      case 'port': o.port = num('port', value(), 0, 65535); break;
      case 'host': o.host = value() ?? '127.0.0.1'; break;
      case 'path': o.path = value() ?? '/demo'; break;
      case 'width': o.width = num('width', value(), 16, 4096); break;
      case 'height': o.height = num('height', value(), 16, 4096); break;
      case 'fps': o.fps = num('fps', value(), 1, 120); break;
      case 'username': o.username = value() ?? ''; break;
      case 'audio': o.audio = true; break;
      case 'onvif-port': o.onvif = { ...(typeof o.onvif === 'object' ? o.onvif : {}), port: num('onvif-port', value(), 0, 65535) }; break;
      case 'discovery-port': o.onvif = { ...(typeof o.onvif === 'object' ? o.onvif : {}), discoveryPort: num('discovery-port', value(), 0, 65535) }; break;
      case 'no-onvif': o.onvif = false; break;
      // the scripted scene for motion detection: an object walks across at known times
      case 'scene': o.scene = true; break;
      case 'http-port': o.httpPort = num('http-port', value(), 0, 65535); break;
      case 'auth': {
        const v = value();
        if (v !== 'none' && v !== 'basic' && v !== 'digest') throw new Error(`--auth must be none, basic or digest\n${USAGE}`);
        o.auth = v;
        break;
      }
      case 'transport': {
        const v = value() ?? '';
        const list = v.split(/[+,]/).filter((x): x is 'udp' | 'tcp' => x === 'udp' || x === 'tcp');
        if (list.length === 0) throw new Error(`--transport must be udp, tcp or udp+tcp\n${USAGE}`);
        o.transports = list;
        break;
      }
      case 'help':
      case 'h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (o.auth && o.auth !== 'none') {
    if (!o.username) throw new Error(`--auth ${o.auth} needs --username (password from RTSP_PASSWORD)`);
    const pw = env['RTSP_PASSWORD'];
    if (!pw) throw new Error(`--auth ${o.auth} needs the RTSP_PASSWORD environment variable`);
    o.password = pw;
  }
  return o;
}

/** A listen error that names the option to change, e.g. when another demo camera holds 8554. */
export function describeListenError(err: unknown, opts: DemoCameraOptions): Error {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e && (e.code === 'EADDRINUSE' || e.code === 'EACCES')) {
    const port = e.port ?? opts.port;
    const where = `port ${port} on ${e.address ?? opts.host}`;
    const what = e.code === 'EADDRINUSE' ? `${where} is in use` : `${where} needs privileges`;
    const onvifPort = typeof opts.onvif === 'object' ? opts.onvif.port : undefined;
    const option = port === opts.port ? '--port' : port === onvifPort ? '--onvif-port' : null;
    const change = option ? `: choose another with ${option} (${option} 0 takes any free port)` : '';
    return new Error(`${what}${change}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

export async function runDemoCameraCli(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const opts = parseDemoCameraArgs(argv);
  if (opts.onvif === undefined) opts.onvif = cliOnvifDefaults(opts.port ?? 8554);
  let cam: Awaited<ReturnType<typeof startDemoCamera>>;
  try {
    cam = await startDemoCamera(opts);
  } catch (err) {
    throw describeListenError(err, opts);
  }
  // Handlers go in before the URL is printed: a supervisor that waits for the URL and then
  // sends SIGTERM must reach them (printing first lost that race on a loaded machine).
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stdout.write(`demo camera: ${cam.url}${opts.auth && opts.auth !== 'none' ? ` (auth ${opts.auth})` : ''}\n`);
  if (cam.onvif) process.stdout.write(`${describeOnvif(cam.onvif)}\n`);
  if (cam.httpUrl) process.stdout.write(`demo camera over HTTP: ${cam.httpUrl}/stream (MJPEG) and ${cam.httpUrl}/capture (snapshot)\n`);
  await stopped;
  await cam.close();
  process.stdout.write('demo camera stopped\n');
}
