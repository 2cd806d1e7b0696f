import ipaddr from 'ipaddr.js';

/**
 * The eight 16-bit words of an IPv6 literal (a zone id is ignored), or undefined when it does not
 * parse. ipaddr.js reads every spelling (compressed, dotted IPv4 tail), so callers keep only their
 * policy: the outbound address policy and the `cidr` filter operator share this one parser.
 *
 * @example ipv6Words('::ffff:127.0.0.1') // [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]
 */
export function ipv6Words(address: string): number[] | undefined {
  const text = address.replace(/%.*$/, '');
  return ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text).parts : undefined;
}
