/**
 * node-red-node-test-helper wiring for node:test, plus small waiting utilities. Every wait is
 * bounded and fails with a message instead of hanging.
 */
import helper from 'node-red-node-test-helper';
import type { Node, NodeMessage } from 'node-red';

helper.init(require.resolve('node-red'));

export { helper };

export type FlowNode = Record<string, unknown> & { id: string; type: string };

/** Resolves with the first `count` messages a helper node receives. */
export function collect(id: string, count: number, timeoutMs = 8000): Promise<NodeMessage[]> {
  const n = helper.getNode(id);
  if (!n) throw new Error(`no node ${id}`);
  return new Promise((resolve, reject) => {
    const got: NodeMessage[] = [];
    const timer = setTimeout(() => {
      n.removeListener('input', onInput);
      reject(new Error(`${id}: ${got.length}/${count} messages within ${timeoutMs} ms`));
    }, timeoutMs);
    const onInput = (msg: NodeMessage): void => {
      got.push(msg);
      if (got.length >= count) {
        clearTimeout(timer);
        n.removeListener('input', onInput);
        resolve(got);
      }
    };
    n.on('input', onInput);
  });
}

/** Polls `cond` every 20 ms until it holds, or fails after timeoutMs with `what`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Everything a node said through status/log/warn/error (the helper spies on them). */
export function spokenText(node: Node): string {
  const spies = node as unknown as Record<string, { args?: unknown[][] } | undefined>;
  const parts: string[] = [];
  for (const m of ['status', 'log', 'warn', 'error', 'debug', 'trace']) {
    for (const args of spies[m]?.args ?? []) parts.push(JSON.stringify(args, (_k, v: unknown) => (v instanceof Error ? { message: v.message, stack: v.stack } : v)));
  }
  return parts.join('\n');
}
