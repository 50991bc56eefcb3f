/**
 * Who serves which path of `mjpeg http out`, across one Node-RED runtime. The first node to
 * claim a path serves it; a second one waits in line and says who holds the path. When the
 * holder goes (deleted, or its path changed), the next in line takes the path over, so that
 * deleting the node that was in the way is enough: no redeploy of the other one.
 */

export interface PathClaimant {
  readonly id: string;
  /** how messages name this node: its name, else its id */
  readonly label: string;
  /** called when the path has become this claimant's */
  take(): void;
}

export class PathClaims {
  private readonly owners = new Map<string, PathClaimant>();
  private readonly waiting = new Map<string, PathClaimant[]>();

  /** The holder of `path`, or null when it is free. */
  owner(path: string): PathClaimant | null {
    return this.owners.get(path) ?? null;
  }

  /** Claims `path` for `c`: null when `c` holds it now, else the holder (and `c` waits in line). */
  claim(path: string, c: PathClaimant): PathClaimant | null {
    const holder = this.owners.get(path);
    if (!holder || holder === c) {
      this.owners.set(path, c);
      return null;
    }
    const line = this.waiting.get(path) ?? [];
    if (!line.includes(c)) line.push(c);
    this.waiting.set(path, line);
    return holder;
  }

  /** `c` gives up `path` (held or waited for); a holder hands it to the next in line. */
  release(path: string, c: PathClaimant): void {
    const line = this.waiting.get(path) ?? [];
    const i = line.indexOf(c);
    if (i >= 0) line.splice(i, 1);
    if (this.owners.get(path) === c) {
      this.owners.delete(path);
      const next = line.shift();
      if (next) {
        this.owners.set(path, next);
        next.take();
      }
    }
    if (line.length === 0) this.waiting.delete(path);
  }
}
