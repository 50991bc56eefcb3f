/**
 * B5: memory. RSS per additional stream comes from B3 (least-squares slope of the receiver's
 * RSS over N). Here: a long run of several TCP streams into one process (10 min with --full,
 * 1 min with --quick), RSS sampled every 5 s from /proc; slope after a 20 % warm-up.
 */
import { clientPath, DIST } from './lib/compile';
import { ROOT } from './lib/gst-server';
import { measureProcess, startHelper } from './lib/proc';
import { recordingFile } from './lib/recordings';
import type { B5Result } from './lib/report';
import { slope } from './lib/stats';
import type { B3Row } from './b3-streams-per-core';

export function rssPerStream(rows: B3Row[], t: 'tcp' | 'udp'): number {
  const rs = rows.filter((r) => r.transport === t && Number.isFinite(r.rssMiB));
  return slope(rs.map((r) => r.n), rs.map((r) => r.rssMiB));
}

export async function runB5Long(opts: { streams: number; durationS: number; log: (s: string) => void }): Promise<NonNullable<B5Result['longRun']>> {
  const { helper, match } = await startHelper(process.execPath, [clientPath('replay-sender'), recordingFile(1280, 720, 250), '25'], /READY (\S+)/, 10000);
  let series: Array<[number, number]> = [];
  try {
    const r = await measureProcess({ cmd: process.execPath, args: [clientPath('ours-reader'), DIST, match[1]!, 'tcp', String(opts.streams)], cwd: ROOT,
      durationMs: opts.durationS * 1000, sampleAtMs: [], rssEveryMs: 5000 });
    series = r.rssSeries.map(([t, kib]) => [t / 1000, kib / 1024]);
  } finally {
    await helper.stop();
  }
  const after = series.filter(([t]) => t >= opts.durationS * 0.2);
  const s = slope(after.map((p) => p[0] / 60), after.map((p) => p[1]));
  const res = { streams: opts.streams, transport: 'tcp', durationS: opts.durationS, slopeMiBPerMin: s, firstMiB: series[0]?.[1] ?? NaN, lastMiB: series[series.length - 1]?.[1] ?? NaN, series };
  opts.log(`B5 ${opts.streams} streams ${opts.durationS} s: RSS ${res.firstMiB.toFixed(1)} → ${res.lastMiB.toFixed(1)} MiB, slope ${s.toFixed(3)} MiB/min`);
  return res;
}
