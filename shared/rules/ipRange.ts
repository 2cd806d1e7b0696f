import { isIPv4, isIPv6 } from 'node:net';

/** An address range as a bit prefix: IPv4 in 32 bits, IPv6 in 128, both held as bigints. */
export interface IpRange {
  version: 4 | 6;
  network: bigint;
  mask: bigint;
}

function ipv4Bits(address: string): bigint {
  return address.split('.').reduce((bits, part) => (bits << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Bits(address: string): bigint {
  let text = address;
  // An embedded IPv4 tail (`::ffff:10.0.0.1`) stands for the last two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4 !== undefined) {
    const bits = ipv4Bits(v4);
    text = `${text.slice(0, -v4.length)}${(bits >> 16n).toString(16)}:${(bits & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(missing).fill('0'), ...tailGroups];
  return groups.reduce((bits, group) => (bits << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

/** The bits of an IPv4 or IPv6 address, or `undefined` when `text` is neither. */
export function parseIp(text: string): { version: 4 | 6; bits: bigint } | undefined {
  if (isIPv4(text)) return { version: 4, bits: ipv4Bits(text) };
  if (isIPv6(text) && !text.includes('%')) return { version: 6, bits: ipv6Bits(text) };
  return undefined;
}

/**
 * Parses `10.0.0.0/24` or `2001:db8::/32`; `undefined` when it is not a CIDR block. Host bits
 * under the mask are ignored, as a network address would have them zero anyway.
 */
export function parseCidr(text: string): IpRange | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(lengthText)) return undefined;
  const width = address.version === 4 ? 32 : 128;
  const length = Number(lengthText);
  if (length > width) return undefined;
  const all = (1n << BigInt(width)) - 1n;
  const mask = (all << BigInt(width - length)) & all;
  return { version: address.version, network: address.bits & mask, mask };
}

/** Whether `text` is an address of the range's version inside it. */
export function inRange(range: IpRange, text: string): boolean {
  const address = parseIp(text);
  return address !== undefined && address.version === range.version && (address.bits & range.mask) === range.network;
}
