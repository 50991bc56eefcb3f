/** Checks on JPEGs that came over MQTT: whole (SOI … EOI) and decodable at the expected size. */
import assert from 'node:assert/strict';
import { decodeJpeg } from '../../support/djpeg';

export function assertWholeJpegs(frames: Buffer[], what: string): void {
  assert.ok(frames.length > 0, `${what}: no frames`);
  frames.forEach((f, i) => {
    assert.ok(f.length > 100 && f[0] === 0xff && f[1] === 0xd8, `${what} #${i}: starts with SOI`);
    assert.ok(f[f.length - 2] === 0xff && f[f.length - 1] === 0xd9, `${what} #${i}: ends with EOI`);
  });
}

/** Decodes the first few and the last frame with an independent decoder (djpeg, else jpeg-js). */
export function assertDecodes(frames: Buffer[], size: { width: number; height: number }, what: string): void {
  const picks = [...frames.slice(0, 4), frames[frames.length - 1]!];
  for (const [i, f] of picks.entries()) {
    const d = decodeJpeg(f);
    assert.ok(d.ok, `${what} sample ${i} does not decode: ${d.error}`);
    assert.deepEqual({ width: d.width, height: d.height }, size, `${what} sample ${i} size`);
  }
}
