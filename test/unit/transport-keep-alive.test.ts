/**
 * The keep-alive of one RTSP session (src/transport/keep-alive.ts) on mocked timers, so that
 * "at once" is checked exactly, not against a wall clock: a GET_PARAMETER (RFC 2326 §10.8)
 * that goes unanswered for answerMs(), or is refused, is followed by an OPTIONS right then,
 * not at the next period, which could come after a short session timeout (§12.37) ran out.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { KeepAlive, keepAliveIntervalMs, type KeepAliveMethod } from '../../src/transport/keep-alive';
import type { RtspResponse } from '../../src/rtsp/message';
import type { CameraError } from '../../src/errors';

interface Sent { method: KeepAliveMethod; at: number }

/** A KeepAlive on a session with `timeoutSec`, its GET_PARAMETERs answered as `getParameter` says. */
function setUp(t: TestContext, timeoutSec: number, getParameter: 'silent' | number) {
  t.mock.timers.enable({ apis: ['setInterval', 'setTimeout'] });
  let now = 0;
  const sent: Sent[] = [];
  const logs: string[] = [];
  const failures: CameraError[] = [];
  const reply = (statusCode: number): RtspResponse => ({ statusCode } as unknown as RtspResponse);
  const ka = new KeepAlive({
    isClosed: () => false,
    sessionTimeoutSec: () => timeoutSec,
    request: (method) => {
      sent.push({ method, at: now });
      if (method === 'GET_PARAMETER' && getParameter === 'silent') return new Promise<RtspResponse>(() => undefined);
      return Promise.resolve(reply(method === 'GET_PARAMETER' ? getParameter as number : 200));
    },
    log: (_l, m) => logs.push(m),
    onFailure: (e) => failures.push(e),
  });
  t.after(() => ka.stop());
  /** moves the mocked clock in 10 ms steps, letting replies (promises) settle between them */
  const advance = async (ms: number): Promise<void> => {
    for (let left = ms; left > 0; left -= 10) {
      const step = Math.min(10, left);
      now += step;
      t.mock.timers.tick(step);
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
  };
  return { ka, sent, logs, failures, advance };
}

for (const timeoutSec of [2, 10, 60]) {
  test(`session timeout ${timeoutSec} s: an unanswered GET_PARAMETER is followed by an OPTIONS after answerMs(), long before the next period; OPTIONS from then on`, async (t) => {
    const { ka, sent, logs, advance } = setUp(t, timeoutSec, 'silent');
    const period = keepAliveIntervalMs(timeoutSec);
    const answer = ka.answerMs();
    assert.ok(answer < period, `answerMs ${answer} below the period ${period}`);
    ka.start('rtsp://cam/stream/', 'GET_PARAMETER');
    await advance(period);
    assert.deepEqual(sent, [{ method: 'GET_PARAMETER', at: period }]);
    await advance(answer);
    assert.deepEqual(sent.map((s) => s.method), ['GET_PARAMETER', 'OPTIONS'], `an OPTIONS at once when the GET_PARAMETER went unanswered (log: ${logs.join(' | ')})`);
    assert.equal(sent[1]!.at - sent[0]!.at, answer, 'exactly answerMs() after the GET_PARAMETER');
    assert.match(logs.join('\n'), /GET_PARAMETER keep-alive unanswered after \d+ ms; keeping the session alive with OPTIONS/);
    // the period restarts from that OPTIONS; every later keep-alive is an OPTIONS
    await advance(2 * period);
    assert.deepEqual(sent.map((s) => s.method), ['GET_PARAMETER', 'OPTIONS', 'OPTIONS', 'OPTIONS']);
    assert.equal(sent[2]!.at - sent[1]!.at, period);
  });
}

test('a refused GET_PARAMETER (405) is followed by an OPTIONS at once, not at the next period', async (t) => {
  const { ka, sent, advance } = setUp(t, 10, 405);
  const period = keepAliveIntervalMs(10);
  ka.start('rtsp://cam/stream/', 'GET_PARAMETER');
  await advance(period + 10);
  assert.deepEqual(sent, [{ method: 'GET_PARAMETER', at: period }, { method: 'OPTIONS', at: period }]);
  await advance(period);
  assert.deepEqual(sent.map((s) => s.method), ['GET_PARAMETER', 'OPTIONS', 'OPTIONS']);
});

test('an answered GET_PARAMETER keeps the method: one request per period, no OPTIONS', async (t) => {
  const { ka, sent, advance, failures } = setUp(t, 10, 200);
  const period = keepAliveIntervalMs(10);
  ka.start('rtsp://cam/stream/', 'GET_PARAMETER');
  await advance(3 * period);
  assert.deepEqual(sent.map((s) => s.at), [period, 2 * period, 3 * period]);
  assert.ok(sent.every((s) => s.method === 'GET_PARAMETER'));
  assert.deepEqual(failures, []);
});
