import type { TestContext } from 'node:test';

/**
 * Closes `resource` when the test ends, passed, failed or timed out, so a failing assertion
 * never leaves a server, camera or socket holding the test file's process open.
 * `close()` must be safe to call twice (the test body may close it itself first).
 */
export function closeAfter<T extends { close(): unknown }>(t: TestContext, resource: T): T {
  t.after(async () => { await resource.close(); });
  return resource;
}
