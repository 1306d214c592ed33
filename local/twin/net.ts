import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';

/** The base URL of a server listening on host:port (IPv6 literals need brackets). */
export function endpointUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * A burst of connections (a thousand clients at once, as AWS's front doors take) waits in the accept
 * queue instead of being reset: Node's default of 511 is too short; the kernel caps it at somaxconn.
 */
const ACCEPT_BACKLOG = 4096;

/** Starts listening and resolves with the bound port, which is the OS's pick when port is 0. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: ACCEPT_BACKLOG }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops a server and drops its kept-alive connections: browsers and SDK clients keep sockets open,
 * and close() alone would wait for them to time out.
 */
export function stopServer(server: HttpServer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
