/**
 * Crashes the fuzzers found that wait for a fix by the module's owner. The bulk loops skip
 * errors matching these signatures (so CI keeps fuzzing the rest), and
 * crash-fixtures.test.ts replays their fixture as a `todo` test until the fix lands; then the
 * entry is removed here and the fixture becomes a plain regression test.
 */
export interface KnownCrash {
  target: string;
  /** substring of errorSignature(err): "Name: message @ module path" */
  signature: string;
  /** file name in test/fixtures/fuzz-crashes */
  fixture: string;
  note: string;
}

export const KNOWN_CRASHES: readonly KnownCrash[] = [];
