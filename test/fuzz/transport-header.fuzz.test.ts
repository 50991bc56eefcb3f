/**
 * Fuzz: Transport / Session / RTP-Info / Public header parsers. Bulk: CI_CASES mutated real
 * values. Structure-aware: fast-check builds Transport values from arbitrary parameters.
 */
import { test, describe } from 'node:test';
import fc from 'fast-check';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { checkHeaders, transportHeaderTarget } from './targets/transport-header';

describe('fuzz: Transport/Session/RTP-Info headers', () => {
  bulkTest(transportHeaderTarget, 'mutated header values');

  test('fast-check: Transport values built from arbitrary parameters', () => {
    const key = fc.constantFrom('interleaved', 'client_port', 'server_port', 'port', 'ttl', 'ssrc', 'mode', 'destination', 'source', 'unicast', 'x');
    const val = fc.oneof(fc.nat({ max: 70000 }).map(String), fc.tuple(fc.nat({ max: 70000 }), fc.nat({ max: 70000 })).map(([a, b]) => `${a}-${b}`), fc.string({ maxLength: 10 }));
    fc.assert(fc.property(fc.constantFrom('RTP/AVP', 'RTP/AVP/TCP', 'RTP/AVP/UDP', 'x'), fc.array(fc.tuple(key, val), { maxLength: 8 }), (proto, ps) => {
      checkHeaders(`${proto};${ps.map(([k, v]) => `${k}=${v}`).join(';')}`);
    }), { numRuns: 3000, seed: CI_SEED });
  });
});
