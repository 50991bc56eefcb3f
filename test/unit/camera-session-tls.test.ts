import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { vectorPackets } from '../support/pcap';
import { startFakeServer, tcpCamera, framesOf, type FakeServer } from '../support/fake-rtsp-server';
import { openCamera } from '../support/camera-session';
import type { StateChange } from '../../src/camera/types';

const VEC = join(__dirname, '..', 'fixtures', 'vectors', 'gst-tcp-320x240.pcap');
const FRAMES = framesOf(vectorPackets(VEC).rtp.map((x) => x.packet)).slice(0, 5);

const dir = mkdtempSync(join(tmpdir(), 'rtsps-'));
const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
const haveCert = gen.status === 0;

describe('RTSPS (TLS) certificate policy', { skip: haveCert ? false : 'openssl not available' }, () => {
  let fake: FakeServer;
  let proxy: tls.Server;
  let port = 0;
  let fingerprint = '';
  before(async () => {
    fake = await startFakeServer();
    fake.setHandler(tcpCamera(fake, { frames: FRAMES }));
    const cert = readFileSync(join(dir, 'c.pem'));
    fingerprint = new X509Certificate(cert).fingerprint256;
    proxy = tls.createServer({ key: readFileSync(join(dir, 'k.pem')), cert }, (s) => {
      const c = net.connect(fake.port, '127.0.0.1');
      s.on('error', () => c.destroy()); c.on('error', () => s.destroy());
      s.pipe(c).pipe(s);
    });
    proxy.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    port = (proxy.address() as net.AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((r) => proxy.close(() => r()));
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const reason = (url: string, opts = {}): Promise<string> => new Promise((resolve) => {
    const cam = openCamera(url, { reconnectMinMs: 60000, ...opts });
    const done = (r: string): void => { void cam.close().then(() => resolve(r)); };
    cam.on('frame', () => done('frame'));
    cam.on('state', (c: StateChange) => { if (c.state === 'reconnecting') done(c.reason ?? '?'); });
  });

  test('self-signed certificate refused by default', async () => {
    assert.equal(await reason(`rtsps://127.0.0.1:${port}/cam`), 'tls error');
  });
  test('pinned SHA-256 fingerprint accepted; a wrong pin refused', async () => {
    assert.equal(await reason(`rtsps://127.0.0.1:${port}/cam`, { tlsFingerprint256: fingerprint }), 'frame');
    assert.equal(await reason(`rtsps://127.0.0.1:${port}/cam`, { tlsFingerprint256: 'AA:'.repeat(31) + 'AA' }), 'tls error');
  });
  test('allow-self-signed accepted', async () => {
    assert.equal(await reason(`rtsps://127.0.0.1:${port}/cam`, { tlsAllowSelfSigned: true }), 'frame');
  });
});
