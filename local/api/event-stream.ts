import type { ServerResponse } from 'node:http';
import type { PipelineEvent } from '../../lambdas/core/events.js';

/** Where the pipeline's events come from: the local bus (`LocalEventBus.listen`). */
export interface EventFeed {
  /** Hears every event from now on; returns the function that stops it. */
  listen(listener: (event: PipelineEvent) => void): () => void;
}

/**
 * A comment line this often: proxies and browsers drop a connection that stays silent for long, and
 * a write is how the server learns that a client went without saying so.
 */
const HEARTBEAT_MS = 15_000;

/**
 * Streams `owner`'s events, and only theirs, as server-sent events (`id` the event's id, which
 * consumers dedupe on; `event` its type; `data` the event's JSON) until the client goes. Events are
 * not kept: a client hears what happens while it is connected, and reads the API for what it missed.
 */
export function streamOwnerEvents(response: ServerResponse, owner: string, events: EventFeed): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  // Sends the head at once: the client's fetch resolves, so it knows it is connected.
  response.write(': connected\n\n');
  const stop = events.listen((event) => {
    if (event.owner === owner)
      response.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  });
  const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), HEARTBEAT_MS);
  // Fires once the connection is gone, whoever ended it (the client, the server stopping).
  response.on('close', () => {
    clearInterval(heartbeat);
    stop();
  });
}
