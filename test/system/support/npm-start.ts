/**
 * Runs `npm start` (scripts/start.mjs) as a user would, in a user directory of the test's own
 * and on free ports, and stops it the way Ctrl-C does. Its output is kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');

export interface StartRun {
  readonly child: ChildProcess;
  output(): string;
  /** resolves when `text` appears in the output; rejects on exit or after `timeoutMs` */
  waitFor(text: string | RegExp, timeoutMs: number): Promise<void>;
  /** exit code (null after a signal); rejects when it is still running after `timeoutMs` */
  exited(timeoutMs?: number): Promise<number | null>;
  /** Ctrl-C (SIGINT), SIGKILL to everything it started after 15 s */
  stop(): Promise<number | null>;
}

/** process groups still running; killed when the test process exits, however it ends */
const groups = new Set<number>();
let hooked = false;

export function runStart(env: Record<string, string>): StartRun {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => { for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch { /* gone */ } } });
  }
  // its own process group, so nothing it started can outlive the test
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], {
    env: { ...process.env, SKIP_BUILD: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid !== undefined) groups.add(child.pid);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (c) => { for (const l of listeners) l(); resolve(c); }));
  const killGroup = (): void => {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    groups.delete(child.pid!);
  };
  const run: StartRun = {
    child,
    output: () => out,
    waitFor(text, timeoutMs) {
      const hit = (): boolean => (typeof text === 'string' ? out.includes(text) : text.test(out));
      return new Promise((resolve, reject) => {
        const done = (err?: Error): void => { clearTimeout(timer); listeners.delete(check); if (err) reject(err); else resolve(); };
        const check = (): void => {
          if (hit()) done();
          else if (child.exitCode !== null || child.signalCode !== null) done(new Error(`npm start exited before printing ${String(text)}:\n${out.slice(-3000)}`));
        };
        const timer = setTimeout(() => done(new Error(`npm start did not print ${String(text)} within ${timeoutMs / 1000} s:\n${out.slice(-3000)}`)), timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async exited(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`npm start still running after ${timeoutMs / 1000} s:\n${out.slice(-3000)}`)), timeoutMs);
      });
      try {
        return await Promise.race([exit, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop() {
      const tree = descendants(child.pid!);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const killer = setTimeout(() => {
        killGroup();
        for (const pid of tree) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      }, 15_000);
      const code = await exit;
      clearTimeout(killer);
      // whatever start.mjs left behind (it should leave nothing: the tests check that)
      setTimeout(killGroup, 2000).unref();
      return code;
    },
  };
  return run;
}

/** Every descendant pid of `pid`, from /proc. */
export function descendants(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = byParent.get(ppid) ?? [];
      list.push(Number(e));
      byParent.set(ppid, list);
    } catch { /* exited */ }
  }
  const out: number[] = [];
  const walk = (p: number): void => { for (const c of byParent.get(p) ?? []) { out.push(c); walk(c); } };
  walk(pid);
  return out;
}

export const alive = (pid: number): boolean => {
  try {
    return existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** An IPv4 address of this machine other than loopback, or null when it has none. */
export function nonLoopbackAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

/** GET with a bounded wait; `status` 0 when nothing answered */
export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; text: string }> {
  try {
    const r = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    const body = Buffer.from(await r.arrayBuffer());
    return { status: r.status, body, text: body.toString() };
  } catch {
    return { status: 0, body: Buffer.alloc(0), text: '' };
  }
}

/** Polls `cond` every 200 ms up to `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
