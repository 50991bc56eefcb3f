// Loaded by scripts/test.mjs into every test file's process (node --import). Once the file's
// tests and all its hooks have run, the process must end by itself: a server, socket, timer or
// child that is still open then is a leak (or a failed test that could not clean up). Instead
// of letting the file sit until the runner's per-file timeout, this ends it EXIT_GRACE_MS
// later, red, naming what kept it alive. The timer is unref'd, so a clean file exits at once.
import { after } from 'node:test';
import { setImmediate, setTimeout } from 'node:timers';

const EXIT_GRACE_MS = Number(process.env.TEST_EXIT_GRACE_MS) || 5000;

// Registered after the test file itself has been loaded (its top-level hooks are registered
// synchronously while it loads), so this root hook runs after every hook of the file.
setImmediate(() => {
  after(() => {
    const timer = setTimeout(() => {
      const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      process.stderr.write(`\n✖ ${process.argv[1] ?? 'test file'}: the tests are over but the process is still alive ${EXIT_GRACE_MS} ms later, held by: ${open.join(', ') || 'unknown'}. Close every server, socket, timer and child in t.after / after.\n`);
      process.exit(1);
    }, EXIT_GRACE_MS);
    timer.unref();
  });
});
