/**
 * Fuzz: the HTTP reply head reader of the RTSP-over-HTTP tunnel. Bulk: CI_CASES mutated real
 * replies in random chunkings. Structure-aware: fast-check builds heads from arbitrary status
 * lines and fields, and the verdict and body must not depend on how the bytes are chunked.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { checkHead, httpHeadTarget, replayHead } from './targets/http-head';
import { DEFAULT_HTTP_HEAD_LIMITS } from '../../src/transport/http-head';

describe('fuzz: tunnel HTTP reply head reader', () => {
  bulkTest(httpHeadTarget, 'mutated tunnel GET replies');

  test('fast-check: assembled heads parse the same in any chunking; well-formed ones complete', () => {
    const text = fc.string({ maxLength: 40, unit: fc.constantFrom(...'abcXYZ019 :;-_\t"=/\r\n\x00\xff'.split('')) });
    const field = fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), text);
    fc.assert(fc.property(fc.integer({ min: 0, max: 999 }), text, fc.array(field, { maxLength: 12 }), fc.uint8Array({ maxLength: 50 }), fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 5 }),
      (status, reason, fields, body, sizes) => {
        const head = `HTTP/1.1 ${String(status).padStart(3, '0')} ${reason.replace(/[\r\n]/g, '')}\r\n${fields.map(([n, v]) => `${n}: ${v.replace(/[\r\n]/g, '')}\r\n`).join('')}\r\n`;
        const input = Buffer.concat([Buffer.from(head, 'latin1'), body]);
        const v = checkHead(input, DEFAULT_HTTP_HEAD_LIMITS, sizes);
        assert.equal(v, 'done', JSON.stringify(head));
        replayHead(input);
      }), { numRuns: 2000, seed: CI_SEED });
  });
});
