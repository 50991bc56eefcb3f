/**
 * Child processes for the end-to-end tests: each one runs in its own process group
 * (detached), so stopping it also stops whatever it started, and its output is kept (bounded)
 * for assertions and for the failure message. Groups still alive when the test process exits
 * are killed synchronously, so a failing test leaves no broker or Node-RED behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const MAX_OUTPUT = 2 * 1024 * 1024;
const live = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* already gone */ }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => { for (const pid of live) killGroup(pid, 'SIGKILL'); });
}

export interface GroupChild {
  readonly name: string;
  readonly proc: ChildProcess;
  /** stdout + stderr so far (the last 2 MB) */
  output(): string;
  /** resolves with the first match of `re` in the output; rejects on exit or after `timeoutMs` */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  exited(): boolean;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the leader has exited */
  stop(graceMs?: number): Promise<void>;
}

export function spawnGroup(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): GroupChild {
  installExitHook();
  const proc = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exitInfo: string | null = null;
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString('utf8');
    if (out.length > MAX_OUTPUT) out = out.slice(-MAX_OUTPUT / 2);
    for (const l of listeners) l();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  if (proc.pid !== undefined) live.add(proc.pid);
  const exitPromise = new Promise<void>((resolve) => {
    const done = (why: string): void => {
      if (exitInfo !== null) return;
      exitInfo = why;
      if (proc.pid !== undefined) {
        // the leader is gone; make sure nothing it started survives
        killGroup(proc.pid, 'SIGKILL');
        live.delete(proc.pid);
      }
      for (const l of listeners) l();
      resolve();
    };
    proc.once('exit', (code, signal) => done(`exited with ${signal ?? `code ${code}`}`));
    proc.once('error', (err) => done(`failed to start: ${err.message}`));
  });

  return {
    name,
    proc,
    output: () => out,
    exited: () => exitInfo !== null,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out);
          if (m) { finish(); resolve(m); return; }
          if (exitInfo !== null) { finish(); reject(new Error(`${name} ${exitInfo} before printing ${re}; output:\n${out.slice(-4000)}`)); }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${name} did not print ${re} within ${timeoutMs / 1000} s; output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const finish = (): void => { clearTimeout(timer); listeners.delete(check); };
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 5000) {
      if (exitInfo !== null || proc.pid === undefined) return;
      killGroup(proc.pid, 'SIGTERM');
      const timer = setTimeout(() => { if (proc.pid !== undefined) killGroup(proc.pid, 'SIGKILL'); }, graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

/** Runs a command to completion (own process group, bounded by `timeoutMs`). */
export async function run(name: string, cmd: string, args: string[], opts: SpawnOptions & { timeoutMs: number }): Promise<{ code: number | null; output: string }> {
  const child = spawnGroup(name, cmd, args, opts);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => { void child.stop(2000); }, opts.timeoutMs);
    child.proc.once('exit', (c) => { clearTimeout(timer); resolve(c); });
    child.proc.once('error', () => { clearTimeout(timer); resolve(null); });
  });
  return { code, output: child.output() };
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the interop suite's helper). */
export { freeTcpPort as freePort } from '../../support/peers';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 100 ms, at most `timeoutMs`; throws with `what` when it never holds. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}
