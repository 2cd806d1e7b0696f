import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ipv6Words } from '../net/ipv6.ts';

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
  const embedded = embeddedV4(words);
  if (embedded !== undefined) return isBlockedAddress(embedded);
  // 6to4 (2002::/16) carries the IPv4 address in its second and third words.
  if (words[0] === 0x2002 && isBlockedAddress(v4(words[1] ?? 0, words[2] ?? 0))) return true;
  return blocked.check(address, 'ipv6');
}

/** The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64, IPv4-compatible), if any. */
function embeddedV4(words: number[]): string | undefined {
  for (const prefix of EMBEDDING_V4) {
    if (prefix.words.every((word, i) => words[i] === word)) return v4(words[6] ?? 0, words[7] ?? 0);
  }
  return undefined;
}

/*
 * The service's own listeners. Whatever the private-network setting, a hook must never reach the
 * Admin API, the ingest endpoint or the store the service itself uses: a `webhook-custom` request
 * to the store with a forged `x-amz-target` would read every hook's secret (or write items), and
 * one to the Admin API would create hooks. Own endpoints are matched on the resolved address and
 * the port, at connect time, so no spelling of an address (decimal, hex, IPv4-mapped, a DNS name
 * that points at loopback) slips through.
 */

/** One listener of this service. `local` when it is on this machine (then every local address reaches it). */
interface OwnEndpoint {
  host: string;
  port: number;
  local: boolean;
}

/** Why a destination is refused: `own` (this service's listener) or `private` (the private-network policy). */
export type DestinationRefusal = { reason: 'own' | 'private'; message: string };

export interface DestinationPolicyOptions {
  /** Refuse loopback, private and link-local destinations (the cloud's SSRF policy, `BLOCK_PRIVATE_NETWORKS`). */
  blockPrivateNetworks?: boolean;
  /** URLs of the service's own listeners (store endpoint, API), refused in every mode. */
  ownEndpoints?: readonly (string | undefined)[];
}

/** Decides which destinations the outbound sender may reach; one per process, shared by validation and sending. */
export interface DestinationPolicy {
  readonly blockPrivateNetworks: boolean;
  /** Adds a listener once it is known (the API's port after it listens). */
  addOwnEndpoint(url: string): void;
  /**
   * The check at create and update: the URL as written, without DNS (a name other than `localhost`
   * is judged when it is sent). `undefined` when allowed.
   */
  urlRefusal(url: string): DestinationRefusal | undefined;
  /** The check at connect time, on one resolved address (`hostname` is the name it was resolved from). */
  addressRefusal(hostname: string, address: string, port: number): Promise<DestinationRefusal | undefined>;
}

/** The port a URL reaches (its default when none is written). */
export function urlPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** `localhost`, `*.localhost` (RFC 6761) with or without the trailing dot: always loopback. */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** A URL's hostname as compared here: no IPv6 brackets, lower case, no trailing dot. */
function normalizeHost(hostname: string): string {
  return hostname
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase()
    .replace(/\.$/, '');
}

/** An address literal without brackets or zone, IPv4 forms of IPv6 addresses unwrapped. */
function canonicalAddress(address: string): string {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIP(bare) !== 6) return bare;
  const words = ipv6Words(bare);
  if (!words) return bare;
  const embedded = embeddedV4(words);
  return embedded ?? words.map((word) => word.toString(16)).join(':');
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addSubnet('0.0.0.0', 8, 'ipv4'); // 0.0.0.0 connects to the local host on Linux
loopback.addAddress('::1', 'ipv6');
loopback.addAddress('::', 'ipv6');

/** Whether connecting to `address` reaches this machine: loopback, unspecified, or one of its interfaces. */
export function isLocalAddress(address: string): boolean {
  const canonical = canonicalAddress(address);
  const family = isIP(canonical);
  if (family === 0) return false;
  if (loopback.check(canonical, family === 4 ? 'ipv4' : 'ipv6')) return true;
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) if (canonicalAddress(entry.address) === canonical) return true;
  }
  return false;
}

function parseOwnEndpoint(text: string): OwnEndpoint | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const host = normalizeHost(url.hostname);
  return { host, port: urlPort(url), local: isLocalhostName(host) || isLocalAddress(host) };
}

const ownMessage = (port: number) =>
  `points at this service's own listener (port ${port}); a hook may not call the service itself`;
const PRIVATE_MESSAGE = 'points at a private, loopback or link-local address, which BLOCK_PRIVATE_NETWORKS forbids';

/**
 * @example
 * const policy = createDestinationPolicy({ ownEndpoints: ['http://127.0.0.1:8000'] });
 * policy.urlRefusal('http://localhost:8000/')?.reason // 'own'
 * policy.urlRefusal('http://127.0.0.1:9999/')         // undefined (blocking is off)
 */
export function createDestinationPolicy(options: DestinationPolicyOptions = {}): DestinationPolicy {
  const blockPrivateNetworks = options.blockPrivateNetworks ?? false;
  const own: OwnEndpoint[] = [];
  const addOwnEndpoint = (url: string) => {
    const endpoint = parseOwnEndpoint(url);
    if (endpoint) own.push(endpoint);
  };
  for (const url of options.ownEndpoints ?? []) if (url) addOwnEndpoint(url);

  /** Own-endpoint match on an address literal (or a name compared as written). */
  const ownByAddress = (host: string, port: number): DestinationRefusal | undefined => {
    const atPort = own.filter((endpoint) => endpoint.port === port);
    if (atPort.length === 0) return undefined; // the common case: no interface lookup
    const local = isLocalhostName(host) || isLocalAddress(host);
    const canonical = canonicalAddress(host);
    const hit = atPort.some(
      (endpoint) =>
        (endpoint.local && local) || canonicalAddress(endpoint.host) === canonical || endpoint.host === host,
    );
    return hit ? { reason: 'own', message: ownMessage(port) } : undefined;
  };

  return {
    blockPrivateNetworks,
    addOwnEndpoint,
    urlRefusal(text) {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        return undefined; // the URL check reports it
      }
      const host = normalizeHost(url.hostname);
      const refusal = ownByAddress(host, urlPort(url));
      if (refusal) return refusal;
      const literal = isIP(host) !== 0;
      if (blockPrivateNetworks && (isLocalhostName(host) || (literal && isBlockedAddress(host)))) {
        return { reason: 'private', message: PRIVATE_MESSAGE };
      }
      return undefined;
    },
    async addressRefusal(hostname, address, port) {
      const name = normalizeHost(hostname);
      const refusal = ownByAddress(address, port) ?? ownByAddress(name, port);
      if (refusal) return refusal;
      // An own endpoint named by a remote DNS name (DynamoDB Local in another container): compare addresses.
      for (const endpoint of own) {
        if (endpoint.port !== port || endpoint.local || isIP(endpoint.host) !== 0) continue;
        const resolved = await lookup(endpoint.host, { all: true }).catch(() => []);
        if (resolved.some((entry) => canonicalAddress(entry.address) === canonicalAddress(address))) {
          return { reason: 'own', message: ownMessage(port) };
        }
      }
      if (blockPrivateNetworks && isBlockedAddress(address)) return { reason: 'private', message: PRIVATE_MESSAGE };
      return undefined;
    },
  };
}
