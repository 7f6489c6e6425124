import { hostname, networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';

/**
 * The Host headers a browser sends to a server at `address`: the address itself; on loopback or every
 * address, `localhost` and the loopback addresses too; on every address, also this machine's name
 * and its interfaces' addresses. With the port, which a browser always sends for a port other than 80.
 */
export function hostNames(address: AddressInfo): Set<string> {
  const literal = (ip: string, family: string) => (family === 'IPv6' ? `[${ip}]` : ip);
  const everywhere = address.address === '0.0.0.0' || address.address === '::';
  const names = new Set([literal(address.address, address.family)]);
  if (everywhere || address.address.startsWith('127.') || address.address === '::1')
    for (const name of ['localhost', '127.0.0.1', '[::1]']) names.add(name);
  if (everywhere) {
    names.add(hostname().toLowerCase());
    for (const addresses of Object.values(networkInterfaces())) for (const a of addresses ?? []) names.add(literal(a.address, a.family));
  }
  return new Set([...names].flatMap((name) => [`${name}:${address.port}`, ...(address.port === 80 ? [name] : [])]));
}
