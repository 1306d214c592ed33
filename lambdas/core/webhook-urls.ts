import { isIP } from 'node:net';
import { ValidationError } from './errors.js';

/**
 * Where webhooks may be delivered: the guard against server-side request forgery. A webhook URL is
 * chosen by a caller, and the pipeline then POSTs to it from inside AWS, where the instance metadata
 * service (169.254.169.254), VPC neighbours and the function's own loopback are one request away.
 * Pure: the URL's form and the class of each address it resolves to; resolving and connecting are
 * the transport's (`adapters/net/webhook-transport.ts`), which checks every address again there.
 */
export interface WebhookUrlPolicy {
  /** Plain `http:` URLs too, not only `https:`. */
  readonly allowHttp: boolean;
  /** Loopback addresses (127.0.0.0/8, ::1): a receiver on the same machine. */
  readonly allowLoopback: boolean;
}

/** A deployment's policy, and the only one its functions are built with: no settings loosen it. */
export const DEPLOYMENT_URL_POLICY: WebhookUrlPolicy = { allowHttp: false, allowLoopback: false };

/** `npm start`'s: receivers on the developer's machine, over plain http. Never reachable from settings. */
export const LOCAL_URL_POLICY: WebhookUrlPolicy = { allowHttp: true, allowLoopback: true };

const MAX_URL_LENGTH = 2048;

/** A webhook URL's form: absolute, `https:` (or `http:` where allowed), no credentials, no fragment. */
export function parseWebhookUrl(text: string, policy: WebhookUrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refused('the url is not an absolute URL');
  }
  if (text.length > MAX_URL_LENGTH) throw refused(`the url is longer than ${MAX_URL_LENGTH} characters`);
  const schemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) throw refused(`the url must be ${schemes.join(' or ')}`);
  // Credentials in a URL end up in logs and listings; a receiver authenticates the signature instead.
  if (url.username || url.password) throw refused('the url must not carry a user name or password');
  if (url.hash) throw refused('the url must not have a fragment');
  const host = hostOf(url);
  if (!isIP(host) && !HOST_NAME.test(host)) throw refused('the url has no usable host name');
  const named = isIP(host)
    ? addressRefusal(host, policy)
    : isLocalhostName(host) && !policy.allowLoopback
      ? 'loopback'
      : undefined;
  if (named) throw refused(`the url names a ${named} address`);
  return url;
}

/** The URL's host as a resolver or a socket takes it: an IPv6 literal without its brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Names that resolve to the machine itself whatever DNS says (RFC 6761). */
export function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** DNS labels as the WHATWG URL parser leaves them (lowercased, IDNs in punycode). */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/;

function refused(message: string): ValidationError {
  return new ValidationError(message, 'url');
}

/**
 * Why an address may not be delivered to: the class of a forbidden range (`private`, `link-local`,
 * …), or undefined for a public unicast address. IPv6 forms that carry an IPv4 address (mapped,
 * compatible, NAT64) are judged by that address; 6to4 and Teredo tunnels are refused outright.
 */
export function addressRefusal(address: string, policy: WebhookUrlPolicy): string | undefined {
  const family = isIP(address);
  if (family === 4) return ipv4Refusal(parseIpv4(address), policy);
  if (family !== 6) return 'malformed';
  const bytes = parseIpv6(address);
  // `::` and `::1` first: the IPv4-compatible prefix would take them for 0.0.0.0 and 0.0.0.1.
  const exact = IPV6_FORBIDDEN.slice(0, 2).find((range) => inPrefix(bytes, range.bytes, range.bits));
  const embedded = EMBEDDING_PREFIXES.find((prefix) => inPrefix(bytes, prefix.bytes, prefix.bits));
  if (!exact && embedded) return ipv4Refusal(bytes.slice(12), policy);
  const range = exact ?? IPV6_FORBIDDEN.find((forbidden) => inPrefix(bytes, forbidden.bytes, forbidden.bits));
  if (!range) return undefined;
  return range.name === 'loopback' && policy.allowLoopback ? undefined : range.name;
}

function ipv4Refusal(bytes: Uint8Array, policy: WebhookUrlPolicy): string | undefined {
  const range = IPV4_FORBIDDEN.find((forbidden) => inPrefix(bytes, forbidden.bytes, forbidden.bits));
  if (!range) return undefined;
  return range.name === 'loopback' && policy.allowLoopback ? undefined : range.name;
}

interface Range {
  name: string;
  bytes: Uint8Array;
  bits: number;
}

const v4 = (cidr: string, name: string): Range => {
  const [address = '', bits = ''] = cidr.split('/');
  return { name, bytes: parseIpv4(address), bits: Number(bits) };
};
const v6 = (cidr: string, name: string): Range => {
  const [address = '', bits = ''] = cidr.split('/');
  return { name, bytes: parseIpv6(address), bits: Number(bits) };
};

/** Every IPv4 range that is not public unicast (IANA special-purpose registry). */
const IPV4_FORBIDDEN: readonly Range[] = [
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'shared (carrier-grade NAT)'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link-local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'protocol assignment'),
  v4('192.0.2.0/24', 'documentation'),
  v4('192.88.99.0/24', 'relay'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'benchmarking'),
  v4('198.51.100.0/24', 'documentation'),
  v4('203.0.113.0/24', 'documentation'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

/** The first two are exact addresses, checked before the IPv4-embedding forms. */
const IPV6_FORBIDDEN: readonly Range[] = [
  v6('::/128', 'unspecified'),
  v6('::1/128', 'loopback'),
  v6('100::/64', 'discard'),
  v6('2001::/32', 'Teredo tunnel'),
  v6('2001:db8::/32', 'documentation'),
  v6('2002::/16', '6to4 tunnel'),
  v6('fc00::/7', 'private'),
  v6('fe80::/10', 'link-local'),
  v6('fec0::/10', 'site-local'),
  v6('ff00::/8', 'multicast'),
];

/** IPv6 forms whose last 32 bits are an IPv4 address: mapped, NAT64, and the deprecated compatible. */
const EMBEDDING_PREFIXES: readonly Range[] = [
  v6('::ffff:0:0/96', 'IPv4-mapped'),
  v6('64:ff9b::/96', 'NAT64'),
  v6('::/96', 'IPv4-compatible'),
];

function inPrefix(bytes: Uint8Array, prefix: Uint8Array, bits: number): boolean {
  if (bytes.length !== prefix.length) return false;
  for (let bit = 0; bit < bits; bit++) {
    const mask = 0x80 >> (bit % 8);
    const index = Math.floor(bit / 8);
    if (((bytes[index] ?? 0) & mask) !== ((prefix[index] ?? 0) & mask)) return false;
  }
  return true;
}

function parseIpv4(address: string): Uint8Array {
  return Uint8Array.from(address.split('.').map(Number));
}

/** The 16 bytes of an IPv6 address that `isIP` accepted (`::` shorthand, a trailing dotted IPv4, a zone). */
function parseIpv6(address: string): Uint8Array {
  const [text = ''] = address.split('%');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  const hex = dotted
    ? text.slice(0, -dotted.length) +
      Array.from(parseIpv4(dotted))
        .reduce<string[]>((groups, byte, i) => {
          if (i % 2 === 0) groups.push('');
          groups[groups.length - 1] += byte.toString(16).padStart(2, '0');
          return groups;
        }, [])
        .join(':')
    : text;
  const [head = '', tail] = hex.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0');
  const all = [...left, ...(tail === undefined ? [] : zeros), ...right];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}
