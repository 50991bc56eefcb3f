/**
 * Header fields, as RTSP/1.0 takes them from HTTP (RFC 2326 §4.2; RFC 7230 §3.2): `name: value`
 * lines, names case-insensitive, a repeated name keeping every value in order, and obsolete
 * line folding (RFC 7230 §3.2.4: a line starting with a space or tab continues the previous
 * value). The RTSP message reader (message.ts) and the HTTP response head reader
 * (transport/http-head.ts) read their header lines with these two functions, so both accept
 * and store the same things; each keeps its own limits.
 */

/** Header fields by lower-case name; values in the order received. */
export type Headers = Map<string, string[]>;

/** First value of a header, name matched case-insensitively. */
export function header(h: Headers, name: string): string | undefined {
  const v = h.get(name.toLowerCase());
  return v === undefined ? undefined : v[0];
}

/**
 * One header line: a field (`name` lower-cased, `name` and `value` trimmed), or the
 * continuation of the previous field's value (`name` null).
 */
export interface HeaderLine {
  name: string | null;
  value: string;
}

/**
 * Parses one header line, without its line ending. Null for a line that is neither a field
 * nor a continuation (no colon, or nothing before it): both readers tolerate and skip those,
 * as robust HTTP and RTSP implementations do.
 */
export function parseHeaderLine(text: string): HeaderLine | null {
  const c0 = text.charCodeAt(0);
  if (c0 === 0x20 || c0 === 0x09) return { name: null, value: text.trim() };
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  const name = text.slice(0, colon).trim().toLowerCase();
  if (name.length === 0) return null;
  return { name, value: text.slice(colon + 1).trim() };
}

/**
 * Stores a parsed line: a field is appended to its name's values; a continuation joins the
 * last value of field `last` with one space (and is dropped when there is no field before
 * it). Returns the field a following continuation extends.
 */
export function addHeaderLine(headers: Headers, line: HeaderLine, last: string | null): string | null {
  if (line.name === null) {
    const values = last === null ? undefined : headers.get(last);
    if (values !== undefined) {
      const prev = values[values.length - 1]!;
      values[values.length - 1] = prev.length === 0 ? line.value : line.value.length === 0 ? prev : `${prev} ${line.value}`;
    }
    return last;
  }
  const list = headers.get(line.name);
  if (list) list.push(line.value);
  else headers.set(line.name, [line.value]);
  return line.name;
}
