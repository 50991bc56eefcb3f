import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseSdp, pickVideoTrack } from '../../src/sdp/media';

const VECTORS = join(__dirname, '..', 'fixtures', 'vectors');
const FIXTURES = join(__dirname, '..', 'fixtures', 'sdp');
const vectorSdp = (name: string): string => (JSON.parse(readFileSync(join(VECTORS, `${name}.json`), 'utf8')) as { sdp: string }).sdp;
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

describe('parseSdp on the captured SDPs', () => {
  test('GStreamer: static PT 26, framerate string, a=control:* with Content-Base', () => {
    const d = parseSdp(vectorSdp('gst-tcp-320x240'), 'rtsp://127.0.0.1:18580/cam/')!;
    assert.equal(d.sessionControl, 'rtsp://127.0.0.1:18580/cam/');
    assert.equal(d.range, 'npt=now-');
    assert.deepEqual(d.tracks, [{ kind: 'video', payloadType: 26, encoding: 'JPEG', clockRate: 90000, control: 'rtsp://127.0.0.1:18580/cam/stream=0', fps: 25 }]);
    assert.equal(pickVideoTrack(d), d.tracks[0]);
  });

  test('GStreamer large: a=x-dimensions beyond 2040', () => {
    const t = pickVideoTrack(parseSdp(vectorSdp('gst-large-2560x1440-3fps-tcp'), 'rtsp://127.0.0.1:18580/cam/')!)!;
    assert.equal(t.width, 2560);
    assert.equal(t.height, 1440);
    assert.equal(t.fps, 3);
  });

  test('GStreamer with PCMU audio: two tracks, JPEG picked', () => {
    const d = parseSdp(vectorSdp('gst-audio-pcmu-tcp'), 'rtsp://127.0.0.1:18580/cam/')!;
    assert.deepEqual(d.tracks.map((t) => [t.kind, t.payloadType, t.encoding, t.clockRate, t.control]), [
      ['video', 26, 'JPEG', 90000, 'rtsp://127.0.0.1:18580/cam/stream=0'],
      ['audio', 0, 'PCMU', 8000, 'rtsp://127.0.0.1:18580/cam/stream=1'],
    ]);
    assert.equal(pickVideoTrack(d)!.control, 'rtsp://127.0.0.1:18580/cam/stream=0');
  });

  test('VLC: absolute session and media controls, Content-Base without slash', () => {
    const d = parseSdp(vectorSdp('vlc-udp-320x240'), 'rtsp://127.0.0.1:18581/vlc')!;
    assert.equal(d.sessionControl, 'rtsp://127.0.0.1:18581/vlc');
    assert.equal(d.tracks[0]!.control, 'rtsp://127.0.0.1:18581/vlc/trackID=0');
    assert.equal(d.tracks[0]!.multicast, undefined, 'c=IN IP4 0.0.0.0 is not multicast');
  });

  test('FFmpeg RTP SDP files', () => {
    for (const f of readdirSync(VECTORS).filter((x) => x.endsWith('.sdp'))) {
      const d = parseSdp(readFileSync(join(VECTORS, f), 'utf8'), 'rtsp://h/x')!;
      const t = pickVideoTrack(d)!;
      assert.equal(t.payloadType, 26, f);
      assert.equal(t.control, 'rtsp://h/x');
    }
  });
});

describe('parseSdp on written fixtures', () => {
  test('ONVIF-style multi-track: absolute controls, framesize, audio/video/metadata', () => {
    const d = parseSdp(fixture('onvif-multitrack.sdp'), 'rtsp://cam.example.com/onvif/profile1/media.smp/')!;
    assert.equal(d.sessionControl, 'rtsp://192.168.0.64:554/onvif/profile1/media.smp');
    assert.equal(d.range, 'npt=0-');
    assert.deepEqual(d.tracks.map((t) => [t.kind, t.payloadType, t.encoding, t.clockRate]), [
      ['audio', 0, 'PCMU', 8000], ['video', 26, 'JPEG', 90000], ['application', 107, 'VND.ONVIF.METADATA', 90000],
    ]);
    const v = pickVideoTrack(d)!;
    assert.equal(v.control, 'rtsp://192.168.0.64:554/onvif/profile1/media.smp/trackID=v');
    assert.equal(v.width, 1280);
    assert.equal(v.height, 720);
    assert.equal(v.fps, 15);
  });

  test('dynamic PT JPEG, fmtp x-dimensions, multicast c= with TTL, relative controls under a=control:*', () => {
    const d = parseSdp(fixture('multicast-dynamic-jpeg.sdp'), 'rtsp://10.0.0.9/live')!;
    const v = pickVideoTrack(d)!;
    assert.deepEqual(v, {
      kind: 'video', payloadType: 96, encoding: 'JPEG', clockRate: 90000, control: 'rtsp://10.0.0.9/live/track1',
      fmtp: { 'x-dimensions': '640,480', quality: 80 }, width: 640, height: 480, fps: 12.5,
      multicast: { address: '239.10.20.30', port: 5004, ttl: 16 },
    });
    const a = d.tracks[1]!;
    assert.deepEqual([a.payloadType, a.encoding, a.clockRate], [8, 'PCMA', 8000]);
    assert.deepEqual(a.multicast, { address: '239.10.20.31', port: 5006, ttl: 32 });
  });

  test('no controls, static PT without rtpmap, session x-dimensions, JPEG preferred among several PTs, path control', () => {
    const d = parseSdp(fixture('no-control-static-pt.sdp'), 'rtsp://h:8554/stream')!;
    assert.equal(d.sessionControl, 'rtsp://h:8554/stream');
    assert.equal(d.tracks.length, 2);
    assert.deepEqual([d.tracks[0]!.payloadType, d.tracks[0]!.encoding, d.tracks[0]!.control, d.tracks[0]!.width, d.tracks[0]!.height],
      [26, 'JPEG', 'rtsp://h:8554/stream', 1920, 1080]);
    assert.deepEqual([d.tracks[1]!.payloadType, d.tracks[1]!.control], [26, 'rtsp://h:8554/media/video2']);
  });

  test('framesize for another PT and cliprect fallback', () => {
    const sdp = 'v=0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=framesize:96 100-100\r\na=cliprect:0,0,240,320\r\n';
    const t = parseSdp(sdp, 'rtsp://h/')!.tracks[0]!;
    assert.deepEqual([t.width, t.height], [320, 240]);
  });

  test('no JPEG video → pickVideoTrack null; not SDP → null', () => {
    const d = parseSdp('v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n', 'rtsp://h/')!;
    assert.equal(d.tracks[0]!.encoding, 'H264');
    assert.equal(pickVideoTrack(d), null);
    assert.equal(parseSdp('<html>404</html>', 'rtsp://h/'), null);
    assert.equal(parseSdp('', 'rtsp://h/'), null);
    assert.deepEqual(parseSdp('v=0\r\ns=-\r\n', 'rtsp://h/'), { tracks: [], sessionControl: 'rtsp://h/' });
  });

  test('never throws on random input', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => { parseSdp(s, 'rtsp://h/'); parseSdp(`v=0\n${s}`, 'rtsp://h/'); }), { numRuns: 500 });
    const line = fc.constantFrom('v=0', 'm=video 0 RTP/AVP 26', 'm=audio x RTP/AVP', 'm=video 0 RTP/AVP 96 26 300', 'a=rtpmap:96 JPEG/90000',
      'a=rtpmap:26', 'a=fmtp:96 x-dimensions=a,b', 'a=x-dimensions:0,0', 'a=framesize:26 9-', 'a=framerate:abc', 'a=framerate:1e999',
      'c=IN IP4 224.0.0.1/999', 'c=IN IP6 ff02::1', 'c=IN IP4', 'a=control:', 'a=control:*', 'a=range', 'a=cliprect:9,9,1,1', '=', 'garbage');
    fc.assert(fc.property(fc.array(line, { maxLength: 25 }), fc.constantFrom('\r\n', '\n'), (lines, eol) => {
      const d = parseSdp(lines.join(eol), 'rtsp://h/x');
      for (const t of d?.tracks ?? []) {
        assert.ok(Number.isInteger(t.payloadType) && t.payloadType >= 0 && t.payloadType <= 127);
        if (t.width !== undefined) assert.ok(t.width > 0 && t.height! > 0);
        if (t.fps !== undefined) assert.ok(Number.isFinite(t.fps) && t.fps > 0);
        assert.equal(typeof t.control, 'string');
      }
    }), { numRuns: 1000 });
  });
});
