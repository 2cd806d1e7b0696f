/**
 * Headers a hook's configuration may not set. They describe the connection and the framing of the
 * message, which belong to the sender alone: a configured `Transfer-Encoding: chunked` next to the
 * `Content-Length` the sender computes makes the request ambiguous (request smuggling at any proxy
 * on the way), a configured `Host` sends the request to another virtual host than the URL names,
 * and hop-by-hop headers (RFC 9110 §7.6.1) are meaningless end to end.
 */
const FRAMING_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
]);

/**
 * Whether `name` (any case) is a framing or hop-by-hop header that only the sender may set.
 *
 * @example
 * isReservedHeader('Transfer-Encoding') // true
 * isReservedHeader('Proxy-Authorization') // true
 * isReservedHeader('X-Api-Key') // false
 */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return FRAMING_HEADERS.has(lower) || lower.startsWith('proxy-');
}

/** The message for a refused header name, in Kong's field-error style. */
export const RESERVED_HEADER_MESSAGE =
  'framing and hop-by-hop headers (Host, Content-Length, Transfer-Encoding, Connection, Upgrade, TE, Trailer, Keep-Alive, Proxy-*) are set by the sender and cannot be configured';
