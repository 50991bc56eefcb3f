/**
 * `npm run bench` entry (node --import tsx bench/run.ts [--quick|--full] [--only B1,B2,...]
 * [--runs N] [--b5-minutes M] [--report-only]). Runs the benchmarks side by side in one run and writes
 * bench/results/latest.json, latest.md and cpu-vs-streams.svg. --quick (default) keeps B3 to
 * N ≤ 64 and the B5 long run to 1 min; --full runs N up to 256 and the 10-minute B5 run.
 * Also writes bench/README-figures.md (the block the README quotes).
 * Targets are reported, never asserted: the exit code is 0 unless the harness itself fails.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runB1 } from './b1-depacketize';
import { b2Clients, runB2, type B2Client } from './b2-cpu-per-camera';
import { runB3 } from './b3-streams-per-core';
import { runB4 } from './b4-latency';
import { rssPerStream, runB5Long } from './b5-memory';
import { compileClients, compileLibrary, DIST } from './lib/compile';
import { ROOT } from './lib/gst-server';
import { nodeRedAvailable, nodeRedCommand } from './lib/node-red';
import { markdown, readmeFigures, svgChart, type Results } from './lib/report';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function version(cmd: string, args: string[]): string {
  try { return execFileSync(cmd, args, { encoding: 'utf8', timeout: 10000 }).split('\n')[0]!.trim(); } catch { return `${cmd} missing`; }
}

async function main(): Promise<void> {
  if (process.argv.includes('--report-only')) {
    // Re-render latest.md, the SVG and README-figures.md from latest.json (no measuring).
    const out = join(ROOT, 'bench', 'results');
    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as Results;
    writeFileSync(join(out, 'latest.md'), markdown(results));
    if (results.b3) writeFileSync(join(out, 'cpu-vs-streams.svg'), svgChart(results.b3));
    writeFileSync(join(ROOT, 'bench', 'README-figures.md'), readmeFigures(results));
    return;
  }
  const full = process.argv.includes('--full');
  const only = (arg('--only') ?? 'B1,B2,B3,B4,B5').toUpperCase().split(',');
  const runs = Math.max(3, Number(arg('--runs') ?? (full ? 5 : 3)));
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const log = (s: string): void => { process.stderr.write(s + '\n'); };

  compileClients();
  const haveLibrary = compileLibrary();
  const haveCli = existsSync(join(DIST, 'cli.js'));
  const results: Results = {
    date: new Date().toISOString(),
    mode: full ? 'full' : 'quick',
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version, ffmpeg: version('ffmpeg', ['-version']).replace(/ Copyright.*/, ''), gstreamer: version('gst-launch-1.0', ['--version']).replace(/^gst-launch-1.0 /, 'GStreamer ') },
    notes: [],
  };
  if (!haveLibrary) results.notes.push('our library did not compile to dist/index.js: ours rows are missing');
  // --only re-runs some sections: the others (and their notes) are kept from the previous
  // latest.json, with a note saying so, instead of vanishing from latest.md and the README.
  const prevFile = join(out, 'latest.json');
  const prev = existsSync(prevFile) ? (JSON.parse(readFileSync(prevFile, 'utf8')) as Results) : null;
  if (prev) {
    const kept = (['B1', 'B2', 'B3', 'B4', 'B5'] as const).filter((b) => !only.includes(b) && prev[b.toLowerCase() as 'b1'] !== undefined);
    for (const b of kept) {
      const k = b.toLowerCase() as 'b1' | 'b2' | 'b3' | 'b4' | 'b5';
      (results as unknown as Record<string, unknown>)[k] = prev[k];
    }
    results.notes.push(...prev.notes.filter((n) => kept.some((b) => n.startsWith(b))));
    if (kept.length) results.notes.push(`${kept.join(', ')}: kept from the run of ${prev.date} (this run measured only ${only.join(', ')}).`);
  }

  if (only.includes('B1')) results.b1 = await runB1({ passes: full ? 60 : 30, rounds: full ? 5 : 3, log });
  if (only.includes('B2')) {
    const nodeRed: B2Client | null = haveLibrary && nodeRedAvailable() ? {
      id: 'ours-nodered-tcp', label: 'ours: inside Node-RED 4 (rtsp-camera → rtsp-mjpeg in → function), TCP', transport: 'tcp',
      command: (url) => nodeRedCommand(url, 'tcp'), frames: () => null, warmupS: 6,
    } : null;
    const durationS = Number(arg('--duration') ?? 20);
    const b2 = await runB2({ clients: b2Clients({ haveLibrary, haveCli, nodeRed }), runs, durationS, log });
    results.b2 = { rows: b2.rows, durationS, runs };
    results.notes.push('B2: Node-RED\'s whole-process CPU includes its own start-up (≈1–2 s of CPU); compare its steady-state column, measured 10–22 s into a 26 s run (6 s more warm-up than the others).');
  }
  if (only.includes('B3') && haveLibrary) {
    results.b3 = await runB3({ ns: full ? [1, 8, 32, 64, 128, 256] : [1, 8, 32, 64], ffmpegNs: full ? [1, 8, 32, 64] : [1, 8, 32], durationS: full ? 20 : 15, log });
    writeFileSync(join(out, 'cpu-vs-streams.svg'), svgChart(results.b3));
  }
  if (only.includes('B4') && haveLibrary) {
    results.b4 = await runB4({ durationS: 20, log });
    results.notes.push('B4: sender time is taken right after its write()/send() calls return; over UDP Node queues datagrams asynchronously, so UDP figures include the sender\'s own send path. p99/max are dominated by scheduling on the shared 2-core machine (other processes), p50 is the processing figure.');
  }
  if (only.includes('B5') && haveLibrary) {
    results.b5 = {
      rssPerStreamMiB: { tcp: results.b3 ? rssPerStream(results.b3.rows, 'tcp') : NaN, udp: results.b3 ? rssPerStream(results.b3.rows, 'udp') : NaN },
      longRun: await runB5Long({ streams: 8, durationS: Math.round(60 * Number(arg('--b5-minutes') ?? (full ? 10 : 1))), log }),
    };
  }
  writeFileSync(join(out, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(out, 'latest.md'), markdown(results));
  writeFileSync(join(ROOT, 'bench', 'README-figures.md'), readmeFigures(results));
  log(`wrote ${join(out, 'latest.json')}, latest.md${results.b3 ? ', cpu-vs-streams.svg' : ''}`);
}

main().catch((e: unknown) => { process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
