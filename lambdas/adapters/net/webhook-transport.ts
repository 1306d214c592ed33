import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { ValidationError } from '../../core/errors.js';
import { addressRefusal, hostOf, parseWebhookUrl, type WebhookUrlPolicy } from '../../core/webhook-urls.js';
import type { DeliveryAttempt, HostResolver, WebhookTransport } from '../../ports/webhooks.js';

/** The system resolver, every address of the name, in the order it gives them. */
export const systemResolver: HostResolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * The addresses of a webhook URL's host, each allowed by the policy; a `ValidationError` naming the
 * url when any is not (a name with one private address among public ones is refused whole: the
 * client could connect to any of them). Resolution failures are the resolver's own errors.
 */
export async function allowedAddresses(
  host: string,
  policy: WebhookUrlPolicy,
  resolve: HostResolver,
): Promise<string[]> {
  const addresses = isIP(host) ? [host] : await resolve(host);
  if (addresses.length === 0) throw new ValidationError('the url host has no address', 'url');
  for (const address of addresses) {
    const refusal = addressRefusal(address, policy);
    if (refusal) throw new ValidationError(`the url host resolves to a ${refusal} address`, 'url');
  }
  return addresses;
}

/**
 * Registration's check: the URL's form, then its host resolved and every address judged. A host that
 * does not resolve is refused too: there would be nothing to deliver to.
 */
export async function checkWebhookUrl(
  text: string,
  policy: WebhookUrlPolicy,
  resolve: HostResolver = systemResolver,
): Promise<URL> {
  const url = parseWebhookUrl(text, policy);
  try {
    await allowedAddresses(hostOf(url), policy, resolve);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError('the url host name does not resolve', 'url', { cause: String(error) });
  }
  return url;
}

export interface HttpWebhookTransportOptions {
  policy: WebhookUrlPolicy;
  /** @default systemResolver */
  resolve?: HostResolver;
  /** Connecting, sending and the whole answer, together. @default 10_000 */
  timeoutMs?: number;
  /** Of the answer's body, which is read only to end the exchange cleanly, then dropped. @default 16 KiB */
  maxResponseBytes?: number;
}

/**
 * POSTs deliveries over node's own http/https, one connection each (no pool: a socket is never
 * reused for another host's address). The socket's address comes from a `lookup` that resolves and
 * judges the host itself, so the address connected to is the one checked: a DNS answer that changes
 * between a check and the connection (rebinding) cannot slip in another. An IP literal (which node
 * connects to without a lookup) is judged with the URL. Redirects are never followed: node does not,
 * and a 3xx is a failed attempt.
 */
export class HttpWebhookTransport implements WebhookTransport {
  private readonly resolve: HostResolver;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: HttpWebhookTransportOptions) {
    this.resolve = options.resolve ?? systemResolver;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 16 * 1024;
  }

  async post(urlText: string, headers: Record<string, string>, body: string): Promise<DeliveryAttempt> {
    let url: URL;
    try {
      url = parseWebhookUrl(urlText, this.options.policy);
    } catch (error) {
      return { outcome: 'failed', reason: 'address_refused', detail: (error as Error).message };
    }
    try {
      const status = await this.exchange(url, headers, body);
      if (status >= 200 && status < 300) return { outcome: 'delivered', status };
      const reason = status >= 300 && status < 400 ? 'redirect' : 'status';
      return { outcome: 'failed', reason, status, detail: `the endpoint answered ${status}` };
    } catch (error) {
      if (error instanceof ValidationError) {
        return { outcome: 'failed', reason: 'address_refused', detail: error.message };
      }
      const timedOut = (error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError';
      return timedOut
        ? { outcome: 'failed', reason: 'timeout', detail: `no answer within ${this.timeoutMs} ms` }
        : { outcome: 'failed', reason: 'network', detail: (error as Error).message };
    }
  }

  private exchange(url: URL, headers: Record<string, string>, body: string): Promise<number> {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<number>((resolve, reject) => {
      const outgoing = request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup: this.guardedLookup(),
          agent: false,
          signal: AbortSignal.timeout(this.timeoutMs),
        },
        (response) => this.drain(response).then(() => resolve(response.statusCode ?? 0), reject),
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  /** Reads the answer up to the cap, then lets the connection go. */
  private drain(response: IncomingMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= this.maxResponseBytes) {
          response.destroy();
          resolve();
        }
      });
      response.on('end', resolve);
      response.on('error', reject);
    });
  }

  private guardedLookup(): LookupFunction {
    const { policy } = this.options;
    return (hostname, options, callback) => {
      allowedAddresses(hostname, policy, this.resolve).then(
        ([address = '']) => {
          const family = isIP(address);
          if (options.all) callback(null, [{ address, family }]);
          else callback(null, address, family);
        },
        (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
      );
    };
  }
}
