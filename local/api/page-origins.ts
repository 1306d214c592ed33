import { isIP } from 'node:net';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import { endpointUrl } from '../twin/net.js';

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * The origins a browser gives the demo page when it is served by a listener on `port`: the host it
 * was told, the address it bound, `localhost` for a loopback address, and each interface's address
 * when it bound them all. A name that DNS alone points here is none of them, so a page that a DNS
 * rebinding moves onto this address still counts as foreign.
 */
export function pageOrigins(
  host: string,
  boundAddress: string,
  port: number,
  interfaces: Interfaces = networkInterfaces(),
): string[] {
  const names = [host, boundAddress];
  if (isLoopback(boundAddress)) names.push('localhost');
  if (boundAddress === '0.0.0.0' || boundAddress === '::') {
    // A socket bound to `::` takes IPv4 connections too (Linux, macOS and Windows by default).
    const families = boundAddress === '::' ? ['IPv4', 'IPv6'] : ['IPv4'];
    names.push('localhost');
    for (const address of Object.values(interfaces).flat()) {
      if (address && families.includes(address.family)) names.push(address.address);
    }
  }
  return [...new Set(names.map((name) => endpointUrl(name, port)))];
}

function isLoopback(address: string): boolean {
  return isIP(address) === 4 ? address.startsWith('127.') : address === '::1';
}
