import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTransport, formatTransport, parseSessionHeader, parseRtpInfo, parsePublic } from '../../src/rtsp/transport-header';

describe('Transport (RFC 2326 §12.39)', () => {
  test('GStreamer and VLC replies from the captures', () => {
    assert.deepEqual(parseTransport('RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=73BA8469;mode="PLAY"'), [
      { protocol: 'RTP/AVP/TCP', unicast: true, multicast: false, interleaved: [0, 1], ssrc: 0x73ba8469, mode: 'PLAY' },
    ]);
    assert.deepEqual(parseTransport('RTP/AVP/UDP;unicast;client_port=40288-40289;server_port=38683-38684;ssrc=3142298A;mode=play'), [
      { protocol: 'RTP/AVP/UDP', unicast: true, multicast: false, clientPort: [40288, 40289], serverPort: [38683, 38684], ssrc: 0x3142298a, mode: 'play' },
    ]);
  });

  test('camera quirks (gortsplib transport_test cases)', () => {
    // Hikvision / Dahua: ssrc with leading spaces
    assert.equal(parseTransport('RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=     D93FF')[0]!.ssrc, 0xd93ff);
    assert.equal(parseTransport('RTP/AVP;unicast;client_port=14186;server_port=8000;ssrc=  608C6C67')[0]!.ssrc, 0x608c6c67);
    // single port
    assert.deepEqual(parseTransport('RTP/AVP;unicast;client_port=14186;server_port=8000')[0]!.serverPort, [8000, 8001]);
    // empty source, invalid ssrc
    const t = parseTransport('RTP/AVP;unicast;source=;ssrc=zzzz;client_port=3456-3457')[0]!;
    assert.equal(t.source, undefined);
    assert.equal(t.ssrc, undefined);
    // interleaved without /TCP (Escam Q6), unsorted params, upper-case names
    assert.deepEqual(parseTransport('rtp/avp;INTERLEAVED=2-3;unicast')[0], { protocol: 'RTP/AVP', unicast: true, multicast: false, interleaved: [2, 3] });
    // multicast reply
    assert.deepEqual(parseTransport('RTP/AVP;multicast;destination=225.219.201.15;port=7000-7001;ttl=127;source=10.0.0.2')[0], {
      protocol: 'RTP/AVP', unicast: false, multicast: true, destination: '225.219.201.15', port: [7000, 7001], ttl: 127, source: '10.0.0.2',
    });
    // alternatives, an unusable one skipped
    assert.equal(parseTransport('RTP/AVP/TCP;interleaved=0-1, garbage, RTP/AVP;unicast;client_port=5000-5001').length, 2);
    assert.deepEqual(parseTransport(''), []);
    assert.equal(parseTransport('RTP/AVP;interleaved=300-301')[0]!.interleaved, undefined);
  });

  test('format round-trips; no mode unless set', () => {
    const specs = [
      { protocol: 'RTP/AVP/TCP', unicast: true, multicast: false, interleaved: [0, 1] as [number, number] },
      { protocol: 'RTP/AVP', unicast: true, multicast: false, clientPort: [50000, 50001] as [number, number] },
      { protocol: 'RTP/AVP', unicast: false, multicast: true, destination: '239.1.1.1', port: [5000, 5001] as [number, number], ttl: 16, ssrc: 0x1234, mode: 'PLAY' },
    ];
    assert.equal(formatTransport(specs[0]!), 'RTP/AVP/TCP;unicast;interleaved=0-1');
    assert.equal(formatTransport(specs[1]!), 'RTP/AVP;unicast;client_port=50000-50001');
    assert.equal(formatTransport(specs[2]!), 'RTP/AVP;multicast;destination=239.1.1.1;ttl=16;port=5000-5001;ssrc=00001234;mode=PLAY');
    for (const s of specs) assert.deepEqual(parseTransport(formatTransport(s)), [s]);
  });

  test('never throws on random input', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => { parseTransport(s); parseSessionHeader(s); parseRtpInfo(s); parsePublic(s); }), { numRuns: 1000 });
    fc.assert(fc.property(fc.array(fc.constantFrom('RTP/AVP', '/TCP', ';', ',', '=', '-', '"', 'interleaved', 'client_port', 'ssrc', 'ttl', '0', '65536', ' ', 'url=', 'seq=', 'timeout'), { maxLength: 30 }), (p) => {
      const s = p.join('');
      for (const t of parseTransport(s)) {
        for (const r of [t.interleaved, t.clientPort, t.serverPort, t.port]) if (r) assert.ok(r.every((x) => Number.isInteger(x) && x >= 0 && x <= 65535));
        parseTransport(formatTransport(t));
      }
      parseSessionHeader(s);
      parseRtpInfo(s);
    }), { numRuns: 1000 });
  });
});

describe('Session, RTP-Info, Public', () => {
  test('Session header variants', () => {
    assert.deepEqual(parseSessionHeader('8jjrw7z2_SuA-kb4'), { id: '8jjrw7z2_SuA-kb4', timeoutSec: null });
    assert.deepEqual(parseSessionHeader('a6dd5bea94215276;timeout=60'), { id: 'a6dd5bea94215276', timeoutSec: 60 });
    assert.deepEqual(parseSessionHeader(' 12345678 ; timeout = 15 '), { id: '12345678', timeoutSec: 15 });
    assert.deepEqual(parseSessionHeader('abc;timeout=0'), { id: 'abc', timeoutSec: null });
    assert.deepEqual(parseSessionHeader('abc;timeout=x'), { id: 'abc', timeoutSec: null });
  });

  test('RTP-Info variants', () => {
    assert.deepEqual(parseRtpInfo('url=rtsp://127.0.0.1:18580/cam/stream=0;seq=3989;rtptime=3984283721'), [
      { url: 'rtsp://127.0.0.1:18580/cam/stream=0', seq: 3989, rtptime: 3984283721 },
    ]);
    assert.deepEqual(parseRtpInfo('url=rtsp://h/a/trackID=0;seq=1;rtptime=2,url=rtsp://h/a/trackID=1;seq=3;rtptime=4;'), [
      { url: 'rtsp://h/a/trackID=0', seq: 1, rtptime: 2 }, { url: 'rtsp://h/a/trackID=1', seq: 3, rtptime: 4 },
    ]);
    assert.deepEqual(parseRtpInfo('url=/path/only;rtptime=7'), [{ url: '/path/only', rtptime: 7 }]);
    assert.deepEqual(parseRtpInfo('url=rtsp://h/x;seq=70000;rtptime=4294967296'), [{ url: 'rtsp://h/x' }]);
    assert.deepEqual(parseRtpInfo('url=rtsp://h/a,b;seq=5'), [{ url: 'rtsp://h/a,b', seq: 5 }]);
    assert.deepEqual(parseRtpInfo('url=rtsp://h/a;x=1;seq=5'), [{ url: 'rtsp://h/a;x=1', seq: 5 }]);
    assert.deepEqual(parseRtpInfo('seq=5'), []);
  });

  test('Public', () => {
    const p = parsePublic('OPTIONS, DESCRIBE, ANNOUNCE, GET_PARAMETER, PAUSE, PLAY, RECORD, SETUP, SET_PARAMETER, TEARDOWN');
    assert.equal(p.size, 10);
    assert.ok(p.has('GET_PARAMETER') && p.has('SET_PARAMETER'));
    assert.deepEqual([...parsePublic('DESCRIBE,SETUP,TEARDOWN,PLAY,PAUSE,GET_PARAMETER')].sort(), ['DESCRIBE', 'GET_PARAMETER', 'PAUSE', 'PLAY', 'SETUP', 'TEARDOWN']);
    assert.ok(parsePublic('OPTIONS, GET_PARAMETERDate: Mon, 01 Jan 2024').has('GET_PARAMETER'));
    assert.ok(parsePublic('options, play').has('PLAY'));
    assert.equal(parsePublic(undefined).size, 0);
    assert.equal(parsePublic('').size, 0);
  });
});
