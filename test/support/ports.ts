/**
 * Port blocks for tests that must name ports before something binds them (a peer's listen
 * port, a UDP range handed to a camera or to GStreamer), while other test files run at the
 * same time. Everything else listens on port 0.
 *
 * A block is a run of ports below the kernel's ephemeral range (so no port-0 bind anywhere
 * lands in it), free when taken, and held by a lock file in the temp folder that names the
 * holding process: two test processes never hold the same block. A block goes back when its
 * test ends (t.after), or at the latest when the process exits; a lock left by a process that
 * died is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** ports are handed out in blocks of this size, aligned to it */
const BLOCK = 100;
/** lowest port used; the top is just below the ephemeral range */
const LOW = 20000;
const LOCKS = join(tmpdir(), 'rtsp-mjpeg-test-ports');

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > LOW + 10 * BLOCK) return low;
  } catch { /* not Linux */ }
  return 32768;
}
const HIGH = ephemeralLow();

const held = new Set<string>();
process.once('exit', () => {
  for (const f of held) { try { unlinkSync(f); } catch { /* gone */ } }
});

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** creates the lock file of a block; false when another live process holds it */
function lock(file: string): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(file);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try { owner = Number(readFileSync(file, 'utf8')); } catch { /* just released */ }
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
      try { unlinkSync(file); } catch { /* someone else took it over first */ }
    }
  }
  return false;
}

function release(file: string): void {
  if (!held.delete(file)) return;
  try { unlinkSync(file); } catch { /* gone */ }
}

/** whether `port` can be bound on 127.0.0.1 for TCP and UDP right now */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => {
      s.close(() => {
        const u = createSocket('udp4');
        u.once('error', () => { u.close(); resolve(false); });
        u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
      });
    });
  });
}

export interface PortBlock {
  /** first port (even) */
  first: number;
  /** last port, first + count − 1 */
  last: number;
  release(): void;
}

/**
 * `count` consecutive ports (TCP and UDP free on 127.0.0.1, first one even), for this process
 * alone until `release()`, the end of test `t`, or the process's exit.
 */
export async function reservePorts(count: number, t?: TestContext): Promise<PortBlock> {
  if (count < 1 || count > BLOCK) throw new Error(`reservePorts: 1 to ${BLOCK} ports, not ${count}`);
  mkdirSync(LOCKS, { recursive: true });
  const blocks = Math.floor((HIGH - LOW) / BLOCK);
  const start = Math.floor(Math.random() * blocks);
  for (let i = 0; i < blocks; i++) {
    const first = LOW + ((start + i) % blocks) * BLOCK;
    const file = join(LOCKS, String(first));
    if (!lock(file)) continue;
    let free = true;
    for (let p = first; p < first + count && free; p++) free = await bindable(p);
    if (!free) {
      // a peer of an earlier run may still hold it: leave the lock so nobody tries it again soon
      continue;
    }
    const block: PortBlock = { first, last: first + count - 1, release: () => release(file) };
    t?.after(() => block.release());
    return block;
  }
  throw new Error(`reservePorts: no free block of ${count} ports in ${LOW}-${HIGH - 1}`);
}

/** A UDP port range [first, last] of `count` ports, held as reservePorts says. */
export async function reserveUdpRange(count: number, t?: TestContext): Promise<[number, number]> {
  const b = await reservePorts(count, t);
  return [b.first, b.last];
}

/** the block this process hands single ports and pairs out of, in order, never twice */
let pool: { next: number; last: number } | null = null;

/**
 * `count` consecutive ports (the first even) out of a block this process holds until it
 * exits: for a peer's listen port or a UDP pair whose owner has no test context at hand.
 */
export async function takePorts(count: number): Promise<number> {
  if (pool) pool.next += pool.next % 2;
  if (!pool || pool.next + count - 1 > pool.last) {
    const b = await reservePorts(BLOCK);
    pool = { next: b.first, last: b.last };
  }
  const first = pool.next;
  pool.next += count;
  return first;
}
