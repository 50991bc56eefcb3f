/**
 * Every captured vector in test/fixtures/vectors through JpegDepacketizer, compared with the
 * frames GStreamer 1.22's rtpjpegdepay rebuilt from the same packets (reference/NAME/).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { vectorPackets } from '../support/pcap';
import { decodeEach } from '../support/djpeg';
import { createHash } from 'node:crypto';
import { JpegDepacketizer, type JpegFrame } from '../../src/jpeg/depacketizer';

const DIR = join(__dirname, '..', 'fixtures', 'vectors');

interface RefMeta {
  xDimensions: [number, number] | null;
  width: number;
  height: number;
  frames: { rtpTimestamp: number; expect: string; gst: string | null }[];
}

function sdpOf(name: string): string {
  const j = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as { sdp?: string };
  if (j.sdp) return j.sdp;
  const f = join(DIR, `${name}.sdp`);
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

function run(name: string): { frames: JpegFrame[]; dep: JpegDepacketizer; meta: RefMeta } {
  const meta = JSON.parse(readFileSync(join(DIR, 'reference', name, 'meta.json'), 'utf8')) as RefMeta;
  const dep = new JpegDepacketizer();
  // SDP hint as the session would pass it (GStreamer senders: a=x-dimensions:W,H).
  const m = /a=x-dimensions:\s*(\d+)\s*,\s*(\d+)/.exec(sdpOf(name));
  if (m) dep.setDimensions(Number(m[1]), Number(m[2]));
  const frames: JpegFrame[] = [];
  for (const { packet } of vectorPackets(join(DIR, `${name}.pcap`), 26).rtp) {
    const f = dep.push(packet);
    if (f) frames.push(f);
  }
  return { frames, dep, meta };
}

/** djpeg's verdict on each JPEG, with a SHA-1 of its pixels in place of the pixels */
function decoded(jpegs: Buffer[]): { ok: boolean; error?: string | undefined; width?: number | undefined; pixels: string | null }[] {
  const out: { ok: boolean; error?: string | undefined; width?: number | undefined; pixels: string | null }[] = [];
  decodeEach(jpegs, (d) => out.push({ ok: d.ok, error: d.error, width: d.width, pixels: d.pixels ? createHash('sha1').update(d.pixels).digest('hex') : null }));
  return out;
}

const names = readdirSync(DIR).filter((f) => f.endsWith('.pcap')).map((f) => f.slice(0, -5)).sort();

describe('RFC 2435 vectors', () => {
  test('all vectors are present', () => {
    assert.ok(names.length >= 16, `found ${names.length} vectors`);
  });

  for (const name of names) {
    const broken = name.endsWith('-BROKEN');
    test(name, () => {
      const { frames, dep, meta } = run(name);
      const expected = meta.frames.filter((f) => f.expect === 'emit');
      assert.equal(frames.length, expected.length, `frame count (stats ${JSON.stringify(dep.stats)})`);
      assert.equal(dep.stats.framesDropped, 0);
      for (const f of frames) {
        assert.equal(f.jpeg[0], 0xff); assert.equal(f.jpeg[1], 0xd8);
        assert.equal(f.jpeg[f.jpeg.length - 2], 0xff); assert.equal(f.jpeg[f.jpeg.length - 1], 0xd9);
        assert.equal(f.width, meta.width);
        assert.equal(f.height, meta.height);
      }
      const byTs = new Map(meta.frames.map((f) => [f.rtpTimestamp, f]));
      if (name === 'vlc-udp-default-huffman-BROKEN') {
        // The sender used non-standard Huffman tables: nothing can fix that. Only structure checked.
        return;
      }
      if (name === 'ffmpeg-rtp-udp-rst-no-dri-BROKEN') {
        // RST markers without restart header: the repair writes a DRI; every frame must decode.
        assert.equal(dep.stats.restartRepaired, frames.length);
        decoded(frames.map((f) => f.jpeg)).forEach((d, i) => assert.ok(d.ok, `ts ${frames[i]!.rtpTimestamp}: ${d.error}`));
        return;
      }
      assert.ok(!broken);
      const refs = frames.map((f) => {
        const ref = byTs.get(f.rtpTimestamp);
        assert.ok(ref && ref.gst, `no reference for ts ${f.rtpTimestamp}`);
        return readFileSync(join(DIR, 'reference', name, ref.gst));
      });
      if (name.startsWith('ffmpeg-')) {
        // every frame decodes to exactly the reference's pixels
        const ours = decoded(frames.map((f) => f.jpeg));
        const theirs = decoded(refs);
        frames.forEach((f, i) => {
          assert.ok(ours[i]!.ok, `ts ${f.rtpTimestamp}: ${ours[i]!.error}`);
          assert.ok(theirs[i]!.ok);
          assert.equal(ours[i]!.pixels, theirs[i]!.pixels, `pixels differ at ts ${f.rtpTimestamp}`);
        });
        return;
      }
      frames.forEach((f, i) => assert.ok(f.jpeg.equals(refs[i]!), `ts ${f.rtpTimestamp}: not byte-identical to ${byTs.get(f.rtpTimestamp)!.gst}`));
      // Decode a sample of frames fully (all for small vectors).
      const sample = frames.filter((_f, i) => frames.length <= 80 || i % 10 === 0);
      decoded(sample.map((f) => f.jpeg)).forEach((d, i) => {
        assert.ok(d.ok, `ts ${sample[i]!.rtpTimestamp}: ${d.error}`);
        assert.equal(d.width, meta.width);
      });
    });
  }
});
