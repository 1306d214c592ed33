/**
 * Server-sent events as the HTML standard parses them ("event stream interpretation"), fed text as it
 * arrives in chunks of any size. The page reads its event stream with `fetch`, not `EventSource`,
 * because only `fetch` can send the bearer token in a header; this is the part of `EventSource` it
 * then needs. Pure: no DOM, no I/O.
 */

export interface SseMessage {
  /** `message` unless the server named it with `event:`. */
  event: string;
  data: string;
  /** The last `id:` seen, this message's or an earlier one's (as `EventSource.lastEventId`). */
  id: string;
}

export class SseParser {
  /** Text after the last line break. */
  #partial = '';
  /** A chunk ended in CR: an LF starting the next one belongs to that line break. */
  #afterCr = false;
  #started = false;
  #event = '';
  #data: string[] = [];
  #lastId = '';

  /** The messages completed by `chunk`; the rest waits for the next chunk. */
  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (this.#afterCr && text.startsWith('\n')) text = text.slice(1);
    this.#afterCr = false;
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    const lines = (this.#partial + text).split(/\r\n|\r|\n/);
    this.#partial = lines.pop() ?? '';
    // A CR at the very end was split as a line break whose LF may come next.
    this.#afterCr = text.endsWith('\r');
    const messages: SseMessage[] = [];
    for (const line of lines) {
      const message = this.#line(line);
      if (message) messages.push(message);
    }
    return messages;
  }

  #line(line: string): SseMessage | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#lastId = value;
    // `retry` is the reconnection delay EventSource would use; the page keeps its own backoff.
    return undefined;
  }

  #dispatch(): SseMessage | undefined {
    const event = this.#event || 'message';
    const data = this.#data;
    this.#event = '';
    this.#data = [];
    return data.length === 0 ? undefined : { event, data: data.join('\n'), id: this.#lastId };
  }
}
