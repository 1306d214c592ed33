import { EVENT_TYPES, type EventType } from '../lambdas/core/event-types.js';
import type { PipelineEvent } from '../lambdas/core/events.js';
import { SseParser } from './sse.js';

/** The local runtime's stream of the signed-in owner's events (`LOCAL_EVENTS_PATH` in local/api/server.ts). */
const EVENTS_PATH = '/local/events';

/** Waits before reconnecting, one per failed attempt in a row; the last repeats. */
const RECONNECT_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/** What the page hears from its event stream. */
export interface EventStreamHandlers {
  /** Connected, or connected again: every event from now on is heard; those before may have been missed. */
  open(): void;
  event(event: PipelineEvent): void;
  /** The connection is gone (or could not be made); the stream tries again after a while. */
  drop(): void;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set<EventType>(EVENT_TYPES);

/**
 * Keeps one connection to the owner's event stream open until `signal` aborts, reconnecting with
 * backoff when it drops. `fetch` rather than `EventSource`: only `fetch` sends the token in the
 * `Authorization` header, where a URL would leave it in logs and history.
 */
export async function followEventStream(
  token: string,
  signal: AbortSignal,
  handlers: EventStreamHandlers,
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      const response = await fetch(EVENTS_PATH, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        cache: 'no-store',
        signal,
      });
      if (response.ok && response.body) {
        failures = 0;
        handlers.open();
        await readEvents(response.body, signal, handlers);
      } else await response.body?.cancel();
    } catch {
      // A dropped connection, or the abort that ends the stream: both leave the loop below.
    }
    if (signal.aborted) return;
    handlers.drop();
    const delay = RECONNECT_DELAYS_MS[Math.min(failures, RECONNECT_DELAYS_MS.length - 1)] ?? 0;
    failures++;
    await pause(delay, signal);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

async function readEvents(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  handlers: EventStreamHandlers,
): Promise<void> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    // `stream`: a character split between two chunks is decoded once both are in.
    for (const message of parser.push(decoder.decode(value, { stream: true }))) {
      // An event read just before the owner changed belongs to the owner the page has left.
      if (signal.aborted) return;
      if (KNOWN_TYPES.has(message.event)) handlers.event(JSON.parse(message.data) as PipelineEvent);
    }
  }
}
