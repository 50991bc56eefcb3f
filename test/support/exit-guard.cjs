// Loaded by scripts/test.mjs into every test file's process (node --require). Once the file's
// tests and all its hooks have run, the process must end by itself: a server, socket, timer or
// child that is still open then is a leak (or a failed test that could not clean up). Instead
// of letting the file sit until the runner's per-file timeout, this ends it EXIT_GRACE_MS
// later, red, naming what kept it alive. The timer is unref'd, so a clean file exits at once.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS file, loaded with --require */
const { after, before } = require('node:test');
const { setImmediate, setTimeout } = require('node:timers');

const EXIT_GRACE_MS = Number(process.env.TEST_EXIT_GRACE_MS) || 5000;

// Registered after the test file itself has been loaded (its top-level hooks are registered
// synchronously while it loads), so this root hook runs after every hook of the file.
process.nextTick(() => {
  // Loading the TypeScript hooks starts a connection attempt (to a tsx parent process that is
  // not there) which fails a moment later: let it settle before the first test, so that tests
  // comparing the process's handles before and after see only their own.
  before(async () => {
    const settling = (r) => r === 'ConnectWrap' || r === 'CloseReq';
    for (let i = 0; i < 50 && process.getActiveResourcesInfo().some(settling); i++) await new Promise((resolve) => setImmediate(resolve));
  });
  after(() => {
    const timer = setTimeout(() => {
      const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      process.stderr.write(`\n✖ ${process.argv[1] ?? 'test file'}: the tests are over but the process is still alive ${EXIT_GRACE_MS} ms later, held by: ${open.join(', ') || 'unknown'}. Close every server, socket, timer and child in t.after / after.\n`);
      process.exit(1);
    }, EXIT_GRACE_MS);
    timer.unref();
  });
});
