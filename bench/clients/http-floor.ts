/**
 * The floor for a Node.js process on an HTTP MJPEG stream: one GET, every read into one reused
 * buffer, nothing parsed, nothing allocated per read. Usage: node http-floor.cjs <url>
 * (http:// only). What any Node client pays before doing any work with the bytes.
 */
import * as net from 'node:net';

const u = new URL(process.argv[2]!);
const buf = Buffer.allocUnsafeSlow(64 * 1024);
let bytes = 0;
const s = net.connect({
  host: u.hostname, port: Number(u.port || 80),
  onread: { buffer: buf, callback: (n: number): boolean => { bytes += n; return true; } },
}, () => s.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`));
s.on('error', () => process.exit(1));
process.on('SIGTERM', () => {
  process.stdout.write(JSON.stringify({ bytes }) + '\n');
  process.exit(0);
});
