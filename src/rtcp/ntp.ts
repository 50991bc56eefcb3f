/**
 * NTP 64-bit timestamps as carried in RTCP sender reports (RFC 3550 §4, §6.4.1).
 * Seconds since 1900-01-01 in the high word, a binary fraction of a second in the low word.
 */

/** Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch). */
export const NTP_UNIX_OFFSET_S = 2208988800;

const TWO_32 = 4294967296;

/**
 * NTP (seconds, fraction) → ms since the Unix epoch.
 * Era handling follows RFC 4330 §3: a seconds value with the most significant bit clear is
 * taken to be in era 1 (from 2036-02-07), so the mapping covers 1968..2104 without an era
 * field. Values from 1968 to 2036 (MSB set) are plain era 0.
 */
export function ntpToMs(ntpSeconds: number, ntpFraction: number): number {
  const sec = ntpSeconds >>> 0;
  const eraSec = sec < 0x80000000 ? sec + TWO_32 : sec;
  return (eraSec - NTP_UNIX_OFFSET_S) * 1000 + ((ntpFraction >>> 0) / TWO_32) * 1000;
}

/** ms since the Unix epoch → NTP (seconds mod 2^32, fraction). Inverse of {@link ntpToMs}. */
export function msToNtp(ms: number): { seconds: number; fraction: number } {
  const wholeMs = Math.floor(ms / 1000) * 1000;
  const seconds = wholeMs / 1000 + NTP_UNIX_OFFSET_S;
  // Rounding the fraction can reach 2^32 for ms just below a whole second: clamp instead of
  // carrying, the error is < 1 ns.
  const fraction = Math.min(0xffffffff, Math.round(((ms - wholeMs) / 1000) * TWO_32));
  return { seconds: ((seconds % TWO_32) + TWO_32) % TWO_32, fraction };
}

/**
 * Middle 32 bits of the 64-bit NTP timestamp: the LSR field of a report block (§6.4.1),
 * i.e. the low 16 bits of the seconds and the high 16 bits of the fraction.
 */
export function ntpMiddle32(ntpSeconds: number, ntpFraction: number): number {
  return (((ntpSeconds & 0xffff) << 16) | ((ntpFraction >>> 16) & 0xffff)) >>> 0;
}
