/**
 * PullPointSubscription (src/onvif/events.ts) against the device emulations: a notification
 * arrives as soon as the device raises it, Renew keeps a subscription alive on a device that
 * extends it only on Renew, a restarted device is subscribed to again with the RTSP session's
 * backoff, close() sends Unsubscribe and releases everything, and a wrong password backs off.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PullPointSubscription, type EventsStateChange, type OnvifEvent } from '../../src/onvif/events';
import { startDevice, PASSWORD, USERNAME, type DeviceName } from '../peers/onvif-devices';
import { closeAfter } from '../support/cleanup';
import { until } from '../support/node-red-helper-lite';

const creds = { username: USERNAME, password: PASSWORD };
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';

function watch(sub: PullPointSubscription): { events: OnvifEvent[]; states: EventsStateChange[] } {
  const events: OnvifEvent[] = [];
  const states: EventsStateChange[] = [];
  sub.on('event', (e: OnvifEvent) => events.push(e));
  sub.on('state', (s: EventsStateChange) => states.push(s));
  return { events, states };
}

describe('ONVIF pull-point subscription', () => {
  for (const name of ['wsSecurityOnly', 'digestOnly', 'clockOff', 'oddPrefixes', 'defaultNamespaces', 'media2Only'] as DeviceName[]) {
    test(`${name}: a motion event reaches the subscriber within 2 s of the device raising it; close() unsubscribes`, async (t) => {
      const d = closeAfter(t, await startDevice(name));
      const sub = new PullPointSubscription(d.deviceUrl, { ...creds, pullTimeoutSec: 5 });
      t.after(() => sub.close());
      const w = watch(sub);
      sub.start();
      await until(() => sub.state === 'subscribed' && d.pullPoints!.counters.pulls > 0, 'subscribed and pulling', 8000);
      const raisedAt = Date.now();
      d.pullPoints!.raise(MOTION, { VideoSourceConfigurationToken: 'vsc0', Rule: 'MyMotionDetectorRule' }, { IsMotion: 'true' });
      await until(() => w.events.length > 0, 'the motion event', 2000);
      const latency = Date.now() - raisedAt;
      assert.ok(latency < 2000, `latency ${latency} ms`);
      const e = w.events[0]!;
      assert.equal(e.topic, MOTION);
      assert.deepEqual(e.payload.source, { VideoSourceConfigurationToken: 'vsc0', Rule: 'MyMotionDetectorRule' });
      assert.deepEqual(e.payload.data, { IsMotion: true });
      assert.equal(e.payload.state, true);
      assert.equal(e.operation, 'Changed');
      // the event's time is on our clock even from the camera an hour ahead
      assert.ok(Math.abs(e.payload.time - raisedAt) < 2000, `time ${e.payload.time - raisedAt} ms off`);
      await sub.close();
      assert.equal(d.pullPoints!.counters.unsubscribed, 1);
      assert.equal(d.pullPoints!.active, 0);
      assert.equal(w.states.at(-1)?.state, 'closed');
    });
  }

  test('Renew keeps a subscription alive on a device that extends it only on Renew (Axis), past several lifetimes', async (t) => {
    const d = closeAfter(t, await startDevice('wsSecurityOnly', 554, { events: { addressing: 'reference-parameter', extendOnPull: false, maxTerminationSec: 2 } }));
    const sub = new PullPointSubscription(d.deviceUrl, { ...creds, terminationSec: 60, pullTimeoutSec: 1 });
    t.after(() => sub.close());
    const w = watch(sub);
    sub.start();
    await until(() => d.pullPoints!.counters.renewed >= 4, 'four renewals of a 2 s subscription', 8000);
    assert.equal(d.pullPoints!.counters.created, 1, 'never had to subscribe again');
    assert.equal(d.pullPoints!.counters.unknown, 0, 'never used an expired subscription');
    d.pullPoints!.raise(MOTION, {}, { IsMotion: 'false' });
    await until(() => w.events.length === 1, 'an event on the renewed subscription', 3000);
    assert.equal(sub.stats.renewals, d.pullPoints!.counters.renewed);
  });

  test('a device restart: the lost subscription is noticed and replaced, with the backoff of the RTSP session', async (t) => {
    const d = closeAfter(t, await startDevice('digestOnly'));
    const sub = new PullPointSubscription(d.deviceUrl, { ...creds, pullTimeoutSec: 1, backoff: { minMs: 200, maxMs: 400 } });
    t.after(() => sub.close());
    const w = watch(sub);
    sub.start();
    await until(() => sub.state === 'subscribed', 'subscribed', 8000);
    d.pullPoints!.restart();
    await until(() => d.pullPoints!.counters.created === 2 && sub.state === 'subscribed', 'subscribed again', 8000);
    const lost = w.states.find((s) => s.state === 'reconnecting');
    assert.equal(lost?.reason, 'session expired');
    assert.ok(lost!.retryInMs! >= 160 && lost!.retryInMs! <= 480, `retry in ${lost!.retryInMs}`);
    d.pullPoints!.raise(MOTION, {}, { IsMotion: 'true' });
    await until(() => w.events.length === 1, 'an event after the restart', 3000);
  });

  test('a wrong password: auth failed, and the retries back off to minutes from the second failure', async (t) => {
    const d = closeAfter(t, await startDevice('wsSecurityOnly'));
    const sub = new PullPointSubscription(d.deviceUrl, { username: USERNAME, password: 'nope', backoff: { minMs: 50, maxMs: 100 } });
    t.after(() => sub.close());
    const w = watch(sub);
    sub.start();
    await until(() => w.states.filter((s) => s.state === 'reconnecting').length >= 2, 'two failures', 8000);
    const fails = w.states.filter((s) => s.state === 'reconnecting');
    assert.equal(fails[0]!.reason, 'auth failed');
    assert.ok(fails[1]!.retryInMs! >= 10000, `second retry in ${fails[1]!.retryInMs} ms`);
    assert.ok(!JSON.stringify(w.states).includes('nope'));
  });

  test('no event service: not found; close() while connecting returns promptly', async (t) => {
    const d = closeAfter(t, await startDevice('h264Only'));
    const sub = new PullPointSubscription(d.deviceUrl, creds);
    const w = watch(sub);
    sub.start();
    await until(() => w.states.some((s) => s.state === 'reconnecting'), 'a failure', 8000);
    assert.equal(w.states.find((s) => s.state === 'reconnecting')?.reason, 'not found');
    const t0 = Date.now();
    await sub.close();
    assert.ok(Date.now() - t0 < 1000);
    const quiet = new PullPointSubscription('http://127.0.0.1:9/onvif/device_service', {});
    quiet.start();
    await quiet.close();
  });
});
