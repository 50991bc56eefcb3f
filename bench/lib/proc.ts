/**
 * Run a client process under /usr/bin/time and read its CPU from the OS: utime+stime from
 * /proc/<pid>/stat at chosen instants (steady state), and the whole-process figures from
 * wait4()'s rusage at exit (GNU time -o), so start-up and teardown are included.
 * Every process runs in its own process group with a hard deadline, then SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64

export interface ProcCpu { /** CPU seconds (user+system) */ cpu: number; rssKiB: number }

/** utime+stime (s) and current RSS of a live (or zombie) pid; null when it is gone. */
export function readProcCpu(pid: number): ProcCpu | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]); // field 14
    const stime = Number(rest[12]); // field 15
    const rssPages = Number(rest[21]); // field 24
    return { cpu: (utime + stime) / CLK_TCK, rssKiB: rssPages * 4 };
  } catch {
    return null;
  }
}

/** Sum over several pids (e.g. N ffmpeg processes); null if none is alive. */
export function readProcCpuSum(pids: readonly number[]): ProcCpu | null {
  let cpu = 0, rss = 0, any = false;
  for (const p of pids) {
    const c = readProcCpu(p);
    if (c) { cpu += c.cpu; rss += c.rssKiB; any = true; }
  }
  return any ? { cpu, rssKiB: rss } : null;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface MeasureOptions {
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** wall-clock run length from spawn; the client then gets stopSignal */
  durationMs: number;
  /** instants (ms after spawn) at which /proc/<pid>/stat is sampled */
  sampleAtMs: number[];
  stopSignal?: NodeJS.Signals;
  /** extra grace after stopSignal before SIGKILL of the group */
  graceMs?: number;
  /** periodic RSS sampling interval (ms), 0 = off */
  rssEveryMs?: number;
}

export interface MeasureResult {
  /** CPU seconds at each sampleAtMs instant (NaN if the process was gone) */
  samples: number[];
  /** whole-process user+system CPU seconds from rusage at exit */
  totalCpu: number;
  /** peak RSS (KiB) from rusage */
  maxRssKiB: number;
  /** [msSinceSpawn, rssKiB] pairs when rssEveryMs > 0 */
  rssSeries: Array<[number, number]>;
  stdout: string;
  stderr: string;
  exitSignal: string | null;
  clientPid: number;
}

let seq = 0;

export async function measureProcess(o: MeasureOptions): Promise<MeasureResult> {
  const timeFile = join(tmpdir(), `bench-time-${process.pid}-${++seq}.txt`);
  const child: ChildProcess = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%U %S %M', o.cmd, ...o.args], {
    env: o.env ?? process.env,
    cwd: o.cwd,
    detached: true, // own process group, killed as a whole on the way out
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const t0 = performance.now();
  let stdout = '', stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < 1 << 20) stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 1 << 20) stderr += d; });
  let exited = false;
  let exitSignal: string | null = null;
  const exitP = new Promise<void>((resolve) => child.on('exit', (_c, s) => { exited = true; exitSignal = s; resolve(); }));
  const timePid = child.pid!;
  let clientPid = 0;
  for (let i = 0; i < 200 && !clientPid && !exited; i++) {
    clientPid = childrenOf(timePid)[0] ?? 0;
    if (!clientPid) await sleep(5);
  }
  const samples: number[] = [];
  const rssSeries: Array<[number, number]> = [];
  const killGroup = (sig: NodeJS.Signals): void => { try { process.kill(-timePid, sig); } catch { /* gone */ } };
  try {
    const points = [...o.sampleAtMs.map((t) => ({ t, kind: 's' as const })), { t: o.durationMs, kind: 'end' as const }]
      .sort((a, b) => a.t - b.t);
    let nextRss = o.rssEveryMs ? o.rssEveryMs : Infinity;
    for (const p of points) {
      while (!exited) {
        const now = performance.now() - t0;
        const target = Math.min(p.t, nextRss);
        if (now >= p.t) break;
        if (now >= nextRss) {
          const c = readProcCpu(clientPid);
          if (c) rssSeries.push([Math.round(now), c.rssKiB]);
          nextRss += o.rssEveryMs!;
          continue;
        }
        await sleep(Math.max(1, Math.min(50, target - now)));
      }
      if (p.kind === 's') samples.push(readProcCpu(clientPid)?.cpu ?? NaN);
    }
    if (!exited && clientPid) { try { process.kill(clientPid, o.stopSignal ?? 'SIGTERM'); } catch { /* gone */ } }
    const grace = o.graceMs ?? 5000;
    await Promise.race([exitP, sleep(grace)]);
    if (!exited) { killGroup('SIGKILL'); await Promise.race([exitP, sleep(2000)]); }
  } finally {
    if (!exited) killGroup('SIGKILL');
  }
  let totalCpu = NaN, maxRssKiB = NaN;
  try {
    const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
    const [u, s, m] = lines[lines.length - 1]!.trim().split(/\s+/).map(Number);
    totalCpu = u! + s!;
    maxRssKiB = m!;
  } catch { /* time killed */ }
  rmSync(timeFile, { force: true });
  return { samples, totalCpu, maxRssKiB, rssSeries, stdout, stderr, exitSignal, clientPid };
}

/** A long-lived helper process (server, sender) in its own group, stopped with stop(). */
export interface Helper {
  child: ChildProcess;
  pid: number;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startHelper(cmd: string, args: string[], readyRe: RegExp, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<{ helper: Helper; match: RegExpMatchArray }> {
  const child = spawn(cmd, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
  let out = '';
  let exited = false;
  const exitP = new Promise<void>((r) => child.on('exit', () => { exited = true; r(); }));
  const helper: Helper = {
    child,
    pid: child.pid!,
    output: () => out,
    stop: async () => {
      if (exited) return;
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ }
      await Promise.race([exitP, sleep(3000)]);
      if (!exited) { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } await Promise.race([exitP, sleep(1000)]); }
    },
  };
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => { void helper.stop(); reject(new Error(`${cmd}: no ready line in ${timeoutMs} ms: ${out.slice(-500)}`)); }, timeoutMs);
    const onData = (d: Buffer): void => {
      if (out.length < 1 << 16) out += d.toString('utf8');
      const m = out.match(readyRe);
      if (m) { clearTimeout(timer); resolve(m); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', () => { clearTimeout(timer); reject(new Error(`${cmd} exited before ready: ${out.slice(-500)}`)); });
  });
  return { helper, match };
}
