import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type Socket } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

/**
 * The SSRF guard of outbound MCP connections. Addresses that are not public (loopback, private,
 * link-local with the cloud metadata address, carrier-grade NAT, unspecified, multicast, ...)
 * are refused unless the operator allows them. The check is made on the connected socket's
 * address, so it holds for DNS names, IP literals, redirects and DNS answers that change between
 * the check at creation and the connection (rebinding).
 */

const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** True when `address` (an IP) is not a public internet address. IPv4-mapped IPv6 is judged as IPv4. */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return NON_PUBLIC.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class AddressRefused extends Error {
  override name = 'AddressRefused';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      `${host === address ? address : `${host} resolves to ${address}, which`} is not a public address, and this server does not connect MCP servers to loopback or private networks (MCP_ALLOW_PRIVATE_NETWORKS)`,
    );
  }
}

/** Resolves a URL's host and throws AddressRefused if any of its addresses is refused. */
export async function checkUrlAddresses(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
  const refused = addresses.find(isNonPublicAddress);
  if (refused) throw new AddressRefused(host, refused);
}

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** A fetch whose every connection is checked by the guard; one dispatcher (connection pool) per call site. */
export function guardedFetch(allowPrivate: boolean, connectTimeoutMs: number): { fetch: FetchLike; close: () => Promise<void> } {
  const base = buildConnector({ timeout: connectTimeoutMs });
  const dispatcher = new Agent({
    connect: (options, callback) =>
      base(options, (error, socket) => {
        if (error || !socket) return callback(error ?? new Error('connection failed'), null);
        const address = (socket as Socket).remoteAddress ?? '';
        if (!allowPrivate && isNonPublicAddress(address)) {
          socket.destroy();
          return callback(new AddressRefused(options.hostname, address), null);
        }
        return callback(null, socket);
      }),
  });
  const fetch: FetchLike = (url, init) =>
    undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher }) as unknown as Promise<Response>;
  return { fetch, close: () => dispatcher.destroy() };
}
