/**
 * Structured RTSP header values: Transport (RFC 2326 §12.39), Session (§12.37), RTP-Info
 * (§12.33), Public (§12.28) — the values of the captures plus camera quirks, mutated with
 * their syntax. One case = one parseTransport, parseSessionHeader, parseRtpInfo and
 * parsePublic call each on mutated values.
 *
 * Invariants: nothing throws; channels 0..255, ports 0..65535, ttl 0..255, ssrc a u32;
 * session timeout null or a positive integer; RTP-Info seq 0..65535 and rtptime a u32.
 */
import assert from 'node:assert/strict';
import { parsePublic, parseRtpInfo, parseSessionHeader, parseTransport } from '../../../src/rtsp/transport-header';
import { headerValues } from '../corpus';
import type { FuzzTarget } from '../harness';
import { mutateText, tokens, type Rng } from '../mutator';

const EXTRA = [
  'RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=   1234ABCD;mode="PLAY"',
  'RTP/AVP;multicast;destination=239.1.1.1;port=5004-5005;ttl=127;source=""',
  'RTP/AVP/TCP;interleaved=0-1, RTP/AVP;unicast;client_port=5000',
  'ABCD1234;timeout=60', '12345678; timeout = "30"',
  'url=rtsp://h/cam/trackID=1;seq=65535;rtptime=4294967295,url=/trackID=2;seq=1', 'url="rtsp://h/a;b";seq=;rtptime=x',
  'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETERDate: Tue',
];
const DICT = tokens(';', ',', '=', '-', '"', ' ', 'interleaved=', 'client_port=', 'server_port=', 'port=', 'ttl=', 'ssrc=',
  'mode=', 'destination=', 'source=', 'timeout=', 'url=', 'seq=', 'rtptime=', '99999', '65535', '256', '4294967296', '-1', 'RTP/AVP/TCP');

const inRange = (v: number | undefined, max: number, what: string): void => {
  if (v !== undefined) assert.ok(Number.isInteger(v) && v >= 0 && v <= max, `${what} = ${v}`);
};

export function checkHeaders(v: string): void {
  for (const t of parseTransport(v)) {
    assert.equal(typeof t.protocol, 'string');
    t.interleaved?.forEach((c) => inRange(c, 255, 'interleaved'));
    for (const p of [t.clientPort, t.serverPort, t.port]) p?.forEach((x) => inRange(x, 65535, 'port'));
    inRange(t.ttl, 255, 'ttl');
    inRange(t.ssrc, 0xffffffff, 'ssrc');
  }
  const s = parseSessionHeader(v);
  assert.equal(typeof s.id, 'string');
  assert.ok(s.timeoutSec === null || (Number.isInteger(s.timeoutSec) && s.timeoutSec > 0), `timeout ${s.timeoutSec}`);
  for (const e of parseRtpInfo(v)) {
    assert.ok(typeof e.url === 'string' && e.url.length > 0);
    inRange(e.seq, 0xffff, 'seq');
    inRange(e.rtptime, 0xffffffff, 'rtptime');
  }
  for (const m of parsePublic(v)) assert.equal(m, m.toUpperCase());
}

export function transportHeaderTarget(): FuzzTarget {
  return {
    name: 'transport-header',
    unit: 'one parseTransport + parseSessionHeader + parseRtpInfo + parsePublic on a mutated value',
    start() {
      const seeds = [...headerValues('transport'), ...headerValues('session'), ...headerValues('rtp-info'), ...headerValues('public'), ...EXTRA];
      let v = '';
      let specs = 0;
      return {
        step(rng: Rng) {
          v = mutateText(rng, rng.pick(seeds), { maxLength: 1024, dictionary: DICT, other: Buffer.from(rng.pick(seeds), 'latin1') });
          checkHeaders(v);
          specs += parseTransport(v).length;
        },
        reproducer: () => Buffer.from(v, 'utf8'),
        summary: () => `${specs} transport specs parsed`,
      };
    },
    replay(input: Buffer) { checkHeaders(input.toString('utf8')); },
  };
}
