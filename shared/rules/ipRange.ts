import { isIPv6 } from 'node:net';
import { ipv6Words } from '../net/ipv6.ts';

/**
 * An address range as a bit prefix. IPv4 in 32-bit unsigned numbers (the common case stays off
 * bigint arithmetic, which costs about a microsecond per address); IPv6 in 128-bit bigints.
 */
export type IpRange = { version: 4; network: number; mask: number } | { version: 6; network: bigint; mask: bigint };

/** `10.0.0.7` → its 32 bits as an unsigned number, or `undefined`. */
function ipv4Bits(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let bits = 0;
  for (const part of parts) {
    // Dotted decimal only, without leading zeros (as node:net's isIPv4 reads it).
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    bits = bits * 256 + octet;
  }
  return bits;
}

/** An IPv6 literal (already checked by `isIPv6`, no zone) as a 128-bit number. */
function ipv6Bits(address: string): bigint {
  return (ipv6Words(address) ?? []).reduce((bits, word) => (bits << 16n) | BigInt(word), 0n);
}

/**
 * Parses `10.0.0.0/24` or `2001:db8::/32`; `undefined` when it is not a CIDR block. Host bits
 * under the mask are ignored, as a network address would have them zero anyway.
 */
export function parseCidr(text: string): IpRange | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const address = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText)) return undefined;
  const length = Number(lengthText);
  const v4 = ipv4Bits(address);
  if (v4 !== undefined) {
    if (length > 32) return undefined;
    const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
    return { version: 4, network: (v4 & mask) >>> 0, mask };
  }
  if (!isIPv6(address) || address.includes('%') || length > 128) return undefined;
  const all = (1n << 128n) - 1n;
  const mask = (all << BigInt(128 - length)) & all;
  return { version: 6, network: ipv6Bits(address) & mask, mask };
}

/** Whether `text` is an address of the range's version inside it. */
export function inRange(range: IpRange, text: string): boolean {
  if (range.version === 4) {
    const bits = ipv4Bits(text);
    return bits !== undefined && (bits & range.mask) >>> 0 === range.network;
  }
  if (!isIPv6(text) || text.includes('%')) return false;
  return (ipv6Bits(text) & range.mask) === range.network;
}
