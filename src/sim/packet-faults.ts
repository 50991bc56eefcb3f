/**
 * Packet-level fault injection for the demo camera's RTP stream: loss, duplicates, adjacent
 * swaps (reordering) and a timestamp change in the middle of a frame. Applied once per frame
 * to the shared packet list, so every receiver sees the same faults.
 */

export interface PacketFaultSettings {
  lossPercent?: number | undefined;
  duplicatePercent?: number | undefined;
  reorder?: boolean | undefined;
  midFrameTimestampChange?: boolean | undefined;
}

export interface PacketFaultCounters {
  dropped: number;
  duplicated: number;
  reordered: number;
  timestampChanged: number;
}

/**
 * Returns the packets to send for one frame. Never mutates the input packets except when
 * `midFrameTimestampChange` applies (those are copied first). `random` is injectable for tests.
 */
export function applyPacketFaults(
  packets: Buffer[], f: PacketFaultSettings, counters: PacketFaultCounters, random: () => number = Math.random,
): { packets: Buffer[]; timestampChanged: boolean } {
  let out = packets;
  let timestampChanged = false;
  if (f.midFrameTimestampChange && packets.length >= 2) {
    // Second half of the frame carries a different timestamp, as some broken encoders do.
    const half = Math.ceil(packets.length / 2);
    out = packets.map((p, i) => {
      if (i < half) return p;
      const c = Buffer.from(p);
      c.writeUInt32BE((c.readUInt32BE(4) + 1500) >>> 0, 4);
      return c;
    });
    counters.timestampChanged++;
    timestampChanged = true;
  }
  const loss = clampPercent(f.lossPercent);
  const dup = clampPercent(f.duplicatePercent);
  if (loss > 0 || dup > 0) {
    const next: Buffer[] = [];
    for (const p of out) {
      if (loss > 0 && random() * 100 < loss) {
        counters.dropped++;
        continue;
      }
      next.push(p);
      if (dup > 0 && random() * 100 < dup) {
        next.push(p);
        counters.duplicated++;
      }
    }
    out = next;
  }
  if (f.reorder && out.length >= 2) {
    if (out === packets) out = packets.slice();
    // Swap some adjacent pairs (about one pair in four, at least one per frame).
    let swapped = false;
    for (let i = 0; i + 1 < out.length; i += 2) {
      if (random() < 0.25 || (!swapped && i + 3 >= out.length)) {
        const t = out[i]!;
        out[i] = out[i + 1]!;
        out[i + 1] = t;
        counters.reordered++;
        swapped = true;
      }
    }
  }
  return { packets: out, timestampChanged };
}

function clampPercent(v: number | undefined): number {
  if (v === undefined || !Number.isFinite(v) || v <= 0) return 0;
  return v > 100 ? 100 : v;
}
