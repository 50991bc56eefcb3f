/**
 * Bench client: N browsers watching one MJPEG stream (`node mjpeg-viewers.cjs URL`, the
 * number of viewers read from stdin lines "N"). Counts parts by their boundary line and
 * bytes, and prints one JSON line per "report" request. It runs in its own process so its
 * CPU is not counted as Node-RED's.
 */
import { get, type ClientRequest } from 'node:http';
import { createInterface } from 'node:readline';

const url = process.argv[2] ?? '';
const open: ClientRequest[] = [];
let parts = 0;
let bytes = 0;

function addViewer(): void {
  let tail = Buffer.alloc(0);
  const req = get(url, (res) => {
    // every response has its own boundary (Content-Type: multipart/x-mixed-replace; boundary=…)
    const boundary = /boundary=([^;\s]+)/.exec(String(res.headers['content-type'] ?? ''))?.[1] ?? '';
    const MARK = Buffer.from(`--${boundary}\r\n`);
    res.on('data', (d: Buffer) => {
      bytes += d.length;
      // boundary lines split across reads are found in the carried-over tail
      const buf = tail.length ? Buffer.concat([tail, d]) : d;
      let i = buf.indexOf(MARK);
      while (i >= 0) {
        parts++;
        i = buf.indexOf(MARK, i + MARK.length);
      }
      tail = Buffer.from(buf.subarray(Math.max(0, buf.length - (MARK.length - 1))));
    });
  });
  req.on('error', () => undefined);
  open.push(req);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'report') {
    process.stdout.write(`${JSON.stringify({ viewers: open.length, parts, bytes })}\n`);
    return;
  }
  const n = Number(cmd);
  if (Number.isInteger(n) && n >= 0) {
    while (open.length < n) addViewer();
    while (open.length > n) open.pop()?.destroy();
    process.stdout.write(`${JSON.stringify({ viewers: open.length })}\n`);
  }
}).on('close', () => process.exit(0));
