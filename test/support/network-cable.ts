import { type ClientRequest, createServer, request as forward } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the browser sent through the cable, as far as it got. */
export interface CabledRequest {
  method: string;
  url: URL;
  /** Body bytes passed on so far. */
  bytesSent: number;
  /** The server's status, once it answered. */
  status?: number;
  /** Severed by `pullWhen` before its answer was through. */
  cut: boolean;
}

/**
 * The browser's network, as a forward proxy a test can unplug. Chromium's own offline mode
 * (`Network.emulateNetworkConditions`) refuses new requests but lets those under way finish, so it
 * never breaks a part mid-upload; pulling this cable does, as a dropped connection does.
 */
export interface NetworkCable {
  /** For Chromium's `--proxy-server`; with `--proxy-bypass-list=<-loopback>` loopback goes through it too. */
  proxyUrl: string;
  /** Every request that reached the cable, in order. */
  readonly requests: readonly CabledRequest[];
  /**
   * Severs every connection at the first moment `when` holds for a request (checked as its body goes
   * through), and refuses new ones until `plugIn`. Resolves once pulled.
   */
  pullWhen(when: (request: CabledRequest) => boolean): Promise<void>;
  plugIn(): void;
  close(): Promise<void>;
}

export async function startNetworkCable(): Promise<NetworkCable> {
  const requests: CabledRequest[] = [];
  const sockets = new Set<Socket>();
  const inFlight = new Map<CabledRequest, ClientRequest>();
  let plugged = true;
  let trigger: { when: (request: CabledRequest) => boolean; pulled: () => void } | undefined;

  const pull = () => {
    plugged = false;
    for (const socket of sockets) socket.destroy();
    for (const [request, upstream] of inFlight) {
      request.cut = true;
      upstream.destroy();
    }
    trigger?.pulled();
    trigger = undefined;
  };

  const server = createServer((incoming, outgoing) => {
    // A proxied request names its whole URL.
    const request: CabledRequest = {
      method: incoming.method ?? 'GET',
      url: new URL(incoming.url ?? ''),
      bytesSent: 0,
      cut: false,
    };
    requests.push(request);
    const upstream = forward(request.url, { method: request.method, headers: incoming.headers }, (answer) => {
      request.status = answer.statusCode;
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
      answer.on('end', () => inFlight.delete(request));
    });
    inFlight.set(request, upstream);
    upstream.on('error', () => outgoing.destroy());
    incoming.on('error', () => upstream.destroy());
    incoming.on('data', (chunk: Buffer) => {
      request.bytesSent += chunk.length;
      if (trigger?.when(request)) pull();
    });
    incoming.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    if (!plugged) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    proxyUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    pullWhen: (when) =>
      new Promise((pulled) => {
        trigger = { when, pulled };
      }),
    plugIn: () => {
      plugged = true;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
