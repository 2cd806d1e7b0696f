/**
 * Bounds on the work one request may cause, checked before that work starts, so that no single
 * request can hold the event loop or the stack (docs/limits.md). Body size is `maxBodyBytes`.
 */
export const REQUEST_LIMITS = {
  /** Deepest nesting of `{` / `[` in a JSON body (Admin API and `POST /events`). */
  jsonDepth: 64,
  /** Most fields in one form body. */
  formFields: 1000,
  /** Highest `[n]` index of a form array field (Kong's indexes start at 1). */
  formIndex: 1000,
  /** Longest segment of a URL path (an id, a source or event name). */
  pathSegment: 256,
} as const;

/**
 * Whether `text` nests `{` / `[` deeper than `maxDepth`, read as JSON would be (brackets inside
 * strings do not count). One pass without recursion, so it is safe on any input and runs before
 * `JSON.parse` builds anything that later recursive code (serialising, marshalling, rendering)
 * would overflow the stack on.
 */
export function jsonNestingExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
