import { BlockList, isIP } from 'node:net';

/**
 * The address policy of outbound requests in the cloud: a webhook URL must not reach the service's
 * own network (loopback, private ranges, link-local such as the instance metadata endpoint
 * 169.254.169.254). The check runs on resolved addresses, at connect time, so a DNS name that
 * points inside cannot slip through.
 */

const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
  ['64:ff9b:1::', 48], // local-use NAT64
  ['2001::', 32], // Teredo: tunnels to an IPv4 address that cannot be checked here
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** Prefixes whose last 32 bits embed an IPv4 address, which is what the connection really reaches. */
const EMBEDDING_V4 = [
  { words: [0, 0, 0, 0, 0, 0xffff], label: 'IPv4-mapped' },
  { words: [0x64, 0xff9b, 0, 0, 0, 0], label: 'NAT64' },
  { words: [0, 0, 0, 0, 0, 0], label: 'IPv4-compatible (deprecated)' },
] as const;

const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;

/**
 * Whether the policy forbids connecting to `address` (an IP literal, v4 or v6).
 *
 * @example
 * isBlockedAddress('169.254.169.254') // true
 * isBlockedAddress('::ffff:7f00:1')   // true (127.0.0.1, IPv4-mapped)
 * isBlockedAddress('93.184.216.34')   // false
 */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true; // not an address at all: refuse rather than guess
  const words = ipv6Words(address);
  if (!words) return true;
  for (const prefix of EMBEDDING_V4) {
    if (prefix.words.every((word, i) => words[i] === word)) return isBlockedAddress(v4(words[6] ?? 0, words[7] ?? 0));
  }
  // 6to4 (2002::/16) carries the IPv4 address in its second and third words.
  if (words[0] === 0x2002 && isBlockedAddress(v4(words[1] ?? 0, words[2] ?? 0))) return true;
  return blocked.check(address, 'ipv6');
}

/** The eight 16-bit words of an IPv6 literal (zone id ignored), or undefined when it does not parse. */
function ipv6Words(address: string): number[] | undefined {
  let text = address.replace(/%.*$/, '');
  // A dotted IPv4 tail ("::ffff:127.0.0.1") stands for the last two words.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) => (part ? part.split(':').map((word) => Number.parseInt(word, 16)) : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return words.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffff) ? words : undefined;
}
