/** Writes bench/results/latest.md and the hand-written SVG chart from the JSON results. */
import type { B1Row } from '../b1-depacketize';
import type { B2Row } from '../b2-cpu-per-camera';
import type { B3Row, FfmpegNRow } from '../b3-streams-per-core';
import { fmt } from './stats';

export interface LatencyRow { label: string; frames: number; p50Ms: number; p99Ms: number; maxMs: number; note: string }
export interface B5Result {
  rssPerStreamMiB: { tcp: number; udp: number };
  longRun: { streams: number; transport: string; durationS: number; slopeMiBPerMin: number; firstMiB: number; lastMiB: number; series: Array<[number, number]> } | null;
}

export interface Results {
  date: string;
  mode: 'quick' | 'full';
  machine: { cpus: number; model: string; node: string; ffmpeg: string; gstreamer: string };
  b1?: B1Row[];
  b2?: { rows: B2Row[]; durationS: number; runs: number };
  b3?: { rows: B3Row[]; ffmpeg: FfmpegNRow[]; windowS: [number, number] };
  b4?: LatencyRow[];
  b5?: B5Result;
  notes: string[];
}

const pct = (x: number): string => (Number.isFinite(x) ? (x * 100).toFixed(2) + ' %' : 'n/a');
const ok = (cond: boolean | null): string => (cond === null ? '–' : cond ? 'yes' : '**no**');

export function b2Ratios(rows: B2Row[]): Array<{ what: string; ratio: number; target: number }> {
  const get = (id: string): number => rows.find((r) => r.id === id)?.steadyCore.median ?? NaN;
  const out: Array<{ what: string; ratio: number; target: number }> = [];
  const add = (what: string, a: string, b: string, target: number): void => {
    const v = get(a) / get(b);
    if (Number.isFinite(v)) out.push({ what, ratio: v, target });
  };
  add('ours TCP / ffmpeg TCP', 'ours-lib-tcp', 'ffmpeg-tcp', 0.5);
  add('ours UDP / ffmpeg UDP', 'ours-lib-udp', 'ffmpeg-udp', 1.0);
  add('ours TCP / minimal Node reader TCP', 'ours-lib-tcp', 'minimal-tcp', 1.1);
  add('ours UDP / minimal Node reader UDP', 'ours-lib-udp', 'minimal-udp', 1.1);
  add('ours TCP / GStreamer TCP', 'ours-lib-tcp', 'gst-tcp', 0.3);
  add('ours TCP / media-stream-library TCP', 'ours-lib-tcp', 'msl-tcp', 0.3);
  add('ours in Node-RED TCP / ffmpeg TCP', 'ours-nodered-tcp', 'ffmpeg-tcp', 0.5);
  return out;
}

export function markdown(r: Results): string {
  const L: string[] = [];
  L.push(`# Benchmark results (${r.mode})`, '', `${r.date} · ${r.machine.cpus} × ${r.machine.model} · Node ${r.machine.node} · ${r.machine.ffmpeg} · ${r.machine.gstreamer}`, '');
  L.push('All figures from one run of `npm run bench`; the machine is shared and noisy, so compare ratios within this file, not absolute times across runs.', '');
  if (r.b1) {
    L.push('## B1 depacketize (in-process, recorded GStreamer RTP/JPEG, 250 frames per pass)', '');
    L.push('| stream | copy baseline CPU ms/pass | ours CPU ms/pass (full receive path) | depacketizer only CPU ms/pass | ours / baseline | target ≤ 1.5× | ours frames per CPU-second |', '|---|---|---|---|---|---|---|');
    for (const x of r.b1) {
      L.push(`| ${x.stream} | ${fmt(x.baselineMs.median, 2)} (${fmt(x.baselineMs.min, 2)}–${fmt(x.baselineMs.max, 2)}) | ${fmt(x.oursMs.median, 2)} (${fmt(x.oursMs.min, 2)}–${fmt(x.oursMs.max, 2)}) | ${fmt(x.depacketizerOnlyMs.median, 2)} | ${fmt(x.ratio, 2)}× | ${ok(x.ratio <= 1.5)} | ${fmt(x.oursFramesPerCpuSecond, 0)} |`);
    }
    L.push('');
  }
  if (r.b2) {
    L.push(`## B2 CPU per camera (1280×720 25 fps from GStreamer's RTSP server, ${r.b2.durationS} s per run, medians of ${r.b2.runs}, min–max)`, '');
    L.push('| client | steady CPU (4–16 s), % of a core | whole-process CPU s | peak RSS MiB | frames |', '|---|---|---|---|---|');
    for (const x of r.b2.rows) {
      L.push(`| ${x.label} | ${pct(x.steadyCore.median)} (${pct(x.steadyCore.min)}–${pct(x.steadyCore.max)}) | ${fmt(x.totalCpuS.median, 2)} (${fmt(x.totalCpuS.min, 2)}–${fmt(x.totalCpuS.max, 2)}) | ${fmt(x.maxRssMiB.median, 1)} | ${x.frames.n ? fmt(x.frames.median, 0) : '–'} |`);
    }
    L.push('', '| steady-state ratio | value | target | met |', '|---|---|---|---|');
    for (const q of b2Ratios(r.b2.rows)) L.push(`| ${q.what} | ${fmt(q.ratio, 2)}× | ≤ ${q.target}× | ${ok(q.ratio <= q.target)} |`);
    const fails = r.b2.rows.flatMap((x) => x.failures.map((f) => `${x.id} ${f}`));
    if (fails.length) L.push('', 'Run problems:', ...fails.map((f) => `- ${f}`));
    L.push('');
  }
  if (r.b3) {
    L.push(`## B3 streams per core (720p25 replayed by a separate sender process; one receiving Node process; steady window ${r.b3.windowS[0]}–${r.b3.windowS[1]} s)`, '');
    L.push('| transport | N | receiver % of a core | streams/core | CPU ms per stream-second | frames received | lost | dropped | RSS MiB | sender % core |', '|---|---|---|---|---|---|---|---|---|---|');
    for (const x of r.b3.rows) {
      L.push(`| ${x.transport} | ${x.n} | ${pct(x.core)} | ${fmt(x.streamsPerCore, 0)} | ${fmt(x.msPerStreamPerS, 2)} | ${x.framesReceived} | ${x.framesLost} | ${x.framesDropped} | ${fmt(x.rssMiB, 1)} | ${pct(x.senderCore)} |`);
    }
    if (r.b3.ffmpeg.length) {
      L.push('', '| ffmpeg processes (TCP, same sender) | % of a core (sum) | RSS MiB (sum) |', '|---|---|---|');
      for (const f of r.b3.ffmpeg) L.push(`| ${f.n} | ${pct(f.core)} | ${fmt(f.rssMiB, 0)} |`);
    }
    L.push('', ...kneeLines(r.b3.rows), '');
    L.push('![CPU vs streams](cpu-vs-streams.svg)', '');
  }
  if (r.b4) {
    L.push('## B4 latency (marker packet written by the sender → frame delivered), ms', '');
    L.push('| path | frames | p50 | p99 | max | target p99 ≤ 1 ms | note |', '|---|---|---|---|---|---|---|');
    for (const x of r.b4) L.push(`| ${x.label} | ${x.frames} | ${fmt(x.p50Ms, 3)} | ${fmt(x.p99Ms, 3)} | ${fmt(x.maxMs, 3)} | ${ok(x.p99Ms <= 1)} | ${x.note} |`);
    L.push('');
  }
  if (r.b5) {
    L.push('## B5 memory', '');
    L.push(`- RSS per additional stream (least-squares slope of B3's receiver RSS over N): TCP ${fmt(r.b5.rssPerStreamMiB.tcp, 2)} MiB, UDP ${fmt(r.b5.rssPerStreamMiB.udp, 2)} MiB (target ≤ 2 MB).`);
    const l = r.b5.longRun;
    if (l) {
      const f = rssFloors(l.series);
      L.push(`- Long run: ${l.streams} ${l.transport.toUpperCase()} streams for ${l.durationS} s: RSS ${fmt(l.firstMiB, 1)} → ${fmt(l.lastMiB, 1)} MiB, range ${fmt(f.min, 1)}–${fmt(f.max, 1)} MiB, slope after warm-up ${fmt(l.slopeMiBPerMin, 3)} MiB/min (target: flat).`);
      // RSS swings by several MiB as V8 grows and shrinks its heap, so the slope of a short run
      // depends on where it ends; a leak raises the floor, so compare the lowest RSS of the
      // first and last thirds.
      L.push(`- Long run, lowest RSS in the first third ${fmt(f.firstThird, 1)} MiB, in the last third ${fmt(f.lastThird, 1)} MiB (a leak raises this floor).`);
    }
    L.push('');
  }
  if (r.notes.length) L.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return L.join('\n');
}

export function kneeLines(rows: B3Row[]): string[] {
  const out: string[] = [];
  for (const t of ['tcp', 'udp'] as const) {
    const rs = rows.filter((r) => r.transport === t).sort((a, b) => a.n - b.n);
    if (!rs.length) continue;
    const bad = rs.find((r) => r.framesLost > 0 || r.framesDropped > 0 || r.silentStreams > 0 || r.core > 0.9);
    const good = rs.filter((r) => r.n > 1 && (!bad || r.n < bad.n));
    const best = good.length ? good[good.length - 1]! : rs[0]!;
    const target = t === 'tcp' ? 200 : 100;
    out.push(`- ${t.toUpperCase()}: ${fmt(best.streamsPerCore, 0)} streams/core at N=${best.n} with no frame lost (target ≥ ${target}: ${best.streamsPerCore >= target ? 'met' : '**not met**'}); ` +
      (bad ? `knee at N=${bad.n} (${bad.framesLost} lost, ${bad.framesDropped} dropped, ${bad.silentStreams} silent, ${pct(bad.core)} of a core, sender ${pct(bad.senderCore)}).` : `no knee up to N=${rs[rs.length - 1]!.n}.`));
  }
  return out;
}

/** CPU (% of one core) against number of streams: ours TCP/UDP (one process) and ffmpeg (N processes). */
export function svgChart(b3: NonNullable<Results['b3']>): string {
  const W = 720, H = 420, ml = 70, mr = 180, mt = 40, mb = 55;
  const series: Array<{ name: string; color: string; pts: Array<[number, number]> }> = [
    { name: 'ours, TCP (1 process)', color: '#1f77b4', pts: b3.rows.filter((r) => r.transport === 'tcp').map((r) => [r.n, r.core * 100]) },
    { name: 'ours, UDP (1 process)', color: '#2ca02c', pts: b3.rows.filter((r) => r.transport === 'udp').map((r) => [r.n, r.core * 100]) },
    { name: 'ffmpeg -c copy, TCP (N processes)', color: '#d62728', pts: b3.ffmpeg.map((f) => [f.n, f.core * 100]) },
  ].map((s) => ({ ...s, pts: s.pts.filter(([, y]) => Number.isFinite(y)) as Array<[number, number]> }));
  const all = series.flatMap((s) => s.pts);
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const yMaxRaw = Math.max(1, ...all.map((p) => p[1]));
  const step = [1, 2, 5, 10, 20, 25, 50, 100, 200].find((s) => yMaxRaw / s <= 8) ?? 500;
  const yMax = Math.ceil(yMaxRaw / step) * step;
  // x on a log2 scale: N goes 1, 8, 32 … 256
  const lx = (n: number): number => ml + (Math.log2(n) / Math.log2(Math.max(2, xMax))) * (W - ml - mr);
  const ly = (y: number): number => H - mb - (y / yMax) * (H - mt - mb);
  const e: string[] = [];
  e.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  e.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  e.push(`<text x="${ml}" y="22" font-size="15" font-weight="bold">Receiver CPU vs number of 720p25 MJPEG streams</text>`);
  for (let y = 0; y <= yMax; y += step) {
    e.push(`<line x1="${ml}" x2="${W - mr}" y1="${ly(y).toFixed(1)}" y2="${ly(y).toFixed(1)}" stroke="#e5e5e5"/>`);
    e.push(`<text x="${ml - 6}" y="${(ly(y) + 4).toFixed(1)}" text-anchor="end">${y}</text>`);
  }
  const ticks = [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b);
  for (const n of ticks) {
    e.push(`<line x1="${lx(n).toFixed(1)}" x2="${lx(n).toFixed(1)}" y1="${mt}" y2="${H - mb}" stroke="#f0f0f0"/>`);
    e.push(`<text x="${lx(n).toFixed(1)}" y="${H - mb + 16}" text-anchor="middle">${n}</text>`);
  }
  e.push(`<line x1="${ml}" x2="${W - mr}" y1="${H - mb}" y2="${H - mb}" stroke="#333"/><line x1="${ml}" x2="${ml}" y1="${mt}" y2="${H - mb}" stroke="#333"/>`);
  e.push(`<text x="${(ml + W - mr) / 2}" y="${H - 12}" text-anchor="middle">concurrent streams N (log scale)</text>`);
  e.push(`<text transform="translate(18 ${(mt + H - mb) / 2}) rotate(-90)" text-anchor="middle">CPU, % of one core</text>`);
  series.forEach((s, i) => {
    if (s.pts.length) {
      e.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.pts.map(([x, y]) => `${lx(x).toFixed(1)},${ly(y).toFixed(1)}`).join(' ')}"/>`);
      for (const [x, y] of s.pts) e.push(`<circle cx="${lx(x).toFixed(1)}" cy="${ly(y).toFixed(1)}" r="3.5" fill="${s.color}"><title>${s.name}: N=${x}, ${y.toFixed(1)} %</title></circle>`);
    }
    const yy = mt + 10 + i * 20;
    e.push(`<line x1="${W - mr + 12}" x2="${W - mr + 32}" y1="${yy}" y2="${yy}" stroke="${s.color}" stroke-width="3"/>`);
    e.push(`<text x="${W - mr + 38}" y="${yy + 4}" font-size="11">${s.name}</text>`);
  });
  e.push('</svg>');
  return e.join('\n') + '\n';
}

/** The short block the README quotes (bench/README-figures.md): headline ratios only. */
export function readmeFigures(r: Results): string {
  const L: string[] = ['<!-- generated by `npm run bench` (bench/run.ts) from bench/results/latest.json -->', ''];
  L.push(`Measured on ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}, ${r.date.slice(0, 10)} (\`npm run bench\`, ${r.mode} mode; full tables in [bench/results/latest.md](bench/results/latest.md)). Every figure below is a ratio measured side by side in one run; CPU comes from \`/proc/<pid>/stat\`.`, '');
  if (r.b2) {
    const g = (id: string): number => r.b2!.rows.find((x) => x.id === id)?.steadyCore.median ?? NaN;
    const rs = (id: string): number => r.b2!.rows.find((x) => x.id === id)?.maxRssMiB.median ?? NaN;
    L.push('| one 1280×720 25 fps camera (steady state) | % of one core | peak RSS |', '|---|---|---|');
    for (const [id, label] of [['ours-lib-tcp', 'this package (library, TCP)'], ['ours-lib-udp', 'this package (library, UDP)'], ['ours-nodered-tcp', 'this package inside Node-RED (whole Node-RED process)'], ['ffmpeg-tcp', 'ffmpeg -c copy (TCP)'], ['ffmpeg-udp', 'ffmpeg -c copy (UDP)'], ['gst-tcp', 'GStreamer rtspsrc ! rtpjpegdepay (TCP)'], ['msl-tcp', 'media-stream-library 13 (TCP)'], ['minimal-tcp', 'a Node script that only counts bytes (TCP)']] as const) {
      if (Number.isFinite(g(id))) L.push(`| ${label} | ${(g(id) * 100).toFixed(2)} % | ${rs(id).toFixed(0)} MiB |`);
    }
    L.push('');
  }
  if (r.b3) L.push(...kneeLines(r.b3.rows).map((l) => l.replace(/^- /, '- Many cameras in one process, ')), '');
  if (r.b1) for (const x of r.b1) L.push(`- Depacketizing ${x.stream.split(' ')[0]}: ${fmt(x.ratio, 2)}× the time of merely copying the payload bytes into one Buffer per frame (${fmt(x.oursFramesPerCpuSecond, 0)} frames per CPU-second).`);
  if (r.b4) for (const x of r.b4) L.push(`- Latency, ${x.label}: p50 ${fmt(x.p50Ms, 2)} ms, p99 ${fmt(x.p99Ms, 2)} ms.`);
  if (r.b5) {
    const l = r.b5.longRun;
    const f = l ? rssFloors(l.series) : null;
    L.push(`- Memory: ${fmt(r.b5.rssPerStreamMiB.tcp, 2)} MiB RSS per additional TCP stream${l && f ? `; ${l.streams} streams for ${l.durationS / 60} min: RSS between ${fmt(f.min, 1)} and ${fmt(f.max, 1)} MiB, lowest ${fmt(f.firstThird, 1)} MiB in the first third and ${fmt(f.lastThird, 1)} MiB in the last` : ''}.`);
  }
  L.push('', '![receiver CPU vs number of streams](bench/results/cpu-vs-streams.svg)', '');
  return L.join('\n');
}

/** Range of an RSS series, and its lowest value in the first and in the last third. */
function rssFloors(series: Array<[number, number]>): { min: number; max: number; firstThird: number; lastThird: number } {
  const v = series.map((p) => p[1]);
  const third = Math.max(1, Math.floor(v.length / 3));
  return {
    min: Math.min(...v), max: Math.max(...v),
    firstThird: Math.min(...v.slice(0, third)), lastThird: Math.min(...v.slice(v.length - third)),
  };
}
