/**
 * One scan of a baseline JPEG read for its DC map (T.81 B.2.3 scan header, A.2 MCU order,
 * F.2.1.3.1 restart intervals): every block of every component in the scan is decoded, the
 * blocks of the frame's first component (the luma) give the map.
 */
import { JpegDcError } from './dc-error';
import { Bits, decodeBlock, stdTables, unstuff, type HuffTable } from './huffman-decode';

export interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** blocks across and down that cover this component (T.81 A.1.1) */
  bw: number;
  bh: number;
}

export interface Frame {
  precision: number;
  width: number;
  height: number;
  comps: Component[];
  hmax: number;
  vmax: number;
}


interface ScanComp {
  comp: Component;
  dc: HuffTable;
  ac: HuffTable;
  /** this scan component is the frame's first component, the one the map holds */
  mapped: boolean;
  pred: number;
}

/** Decodes one scan (T.81 B.2.3 header, then the entropy-coded segments); returns the position after it. */
export function decodeScan(
  d: Uint8Array, s: number, e: number, f: Frame, qdc: Float64Array,
  dcTables: (HuffTable | undefined)[], acTables: (HuffTable | undefined)[],
  restartInterval: number, means: Float32Array,
): number {
  const ns = d[s]!;
  if (ns < 1 || ns > 4 || e - s < 4 + 2 * ns) throw new JpegDcError('corrupt', 'bad scan header');
  const ss = d[s + 1 + 2 * ns]!;
  const se = d[s + 2 + 2 * ns]!;
  const a = d[s + 3 + 2 * ns]!;
  if (ss !== 0 || se !== 63 || a !== 0) throw new JpegDcError('progressive', 'scan with spectral selection or successive approximation (progressive JPEG)');
  const std = (): { dc: HuffTable[]; ac: HuffTable[] } => stdTables();
  const comps: ScanComp[] = [];
  for (let i = 0; i < ns; i++) {
    const id = d[s + 1 + 2 * i]!;
    const td = d[s + 2 + 2 * i]! >> 4;
    const ta = d[s + 2 + 2 * i]! & 15;
    const comp = f.comps.find((c) => c.id === id);
    if (!comp || td > 3 || ta > 3) throw new JpegDcError('corrupt', 'scan names an unknown component or table');
    const dc = dcTables[td] ?? (td < 2 ? std().dc[td] : undefined);
    const ac = acTables[ta] ?? (ta < 2 ? std().ac[ta] : undefined);
    if (!dc || !ac) throw new JpegDcError('corrupt', 'scan uses an undefined Huffman table');
    comps.push({ comp, dc, ac, mapped: comp === f.comps[0], pred: 0 });
  }
  const y = f.comps[0]!;
  const q = qdc[y.tq]!;
  if (comps.some((c) => c.mapped) && !Number.isFinite(q)) throw new JpegDcError('corrupt', 'the luma quantization table is missing');
  // mean = level shift + DC·Q/8 (T.81 A.3.3), scaled to 0..255 for 12-bit samples
  const scale = f.precision === 8 ? q / 8 : q / 8 / 16;
  const base = 128;
  const cols = y.bw;
  const rows = y.bh;
  let mcusX: number, mcusY: number;
  if (ns === 1) {
    // a single-component scan is not interleaved: one block per MCU (T.81 A.2.2)
    mcusX = comps[0]!.comp.bw;
    mcusY = comps[0]!.comp.bh;
  } else {
    mcusX = Math.ceil(f.width / (8 * f.hmax));
    mcusY = Math.ceil(f.height / (8 * f.vmax));
  }
  const total = mcusX * mcusY;
  let blocksPerMcu = 0;
  for (const c of comps) blocksPerMcu += ns === 1 ? 1 : c.comp.h * c.comp.v;
  // every block costs at least two bits (a DC code and an AC code), so this much data is a
  // lower bound; a header that claims more is refused before any work
  if (total * blocksPerMcu > (d.length - e) * 4 + 64) throw new JpegDcError('truncated', 'the scan data is too short for the picture size');
  const data = unstuff(d, e);
  const r = new Bits(data);
  let nextRestart = 0;
  for (let mcu = 0; mcu < total; mcu++) {
    // a restart after every restartInterval MCUs (T.81 F.2.1.3.1), or wherever the data holds
    // an RSTn the decoder has reached: some encoders write RSTn without DRI
    const due = restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0;
    const implicit = restartInterval === 0 && nextRestart < data.restarts.length && r.onlyPaddingBefore(data.restarts[nextRestart]!);
    if (nextRestart < data.restarts.length && (due || implicit)) {
      r.restartAt(data.restarts[nextRestart++]!);
      for (const c of comps) c.pred = 0;
    } else if (due) {
      throw new JpegDcError('truncated', 'scan data ends before a restart marker');
    }
    const mx = mcu % mcusX;
    const my = (mcu - mx) / mcusX;
    for (let ci = 0; ci < comps.length; ci++) {
      const c = comps[ci]!;
      const bh = ns === 1 ? 1 : c.comp.h;
      const bv = ns === 1 ? 1 : c.comp.v;
      for (let v = 0; v < bv; v++) {
        for (let h = 0; h < bh; h++) {
          c.pred += decodeBlock(r, c.dc, c.ac);
          // the reader fetches at most 4 bytes ahead: beyond that it is decoding zeros
          if (r.pos > data.length + 8) throw new JpegDcError('truncated', 'scan data ends before its last block');
          if (!c.mapped) continue;
          const bx = mx * bh + h;
          const by = my * bv + v;
          if (bx < cols && by < rows) {
            const m = base + c.pred * scale;
            means[by * cols + bx] = m < 0 ? 0 : m > 255 ? 255 : m;
          }
        }
      }
    }
  }
  return data.next;
}

