import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type PipelineEvent } from '../../core/events.js';
import type { EventBus } from '../../ports/event-bus.js';
import { toDomainError } from './dependency-errors.js';

/** PutEvents takes at most 10 entries a request. */
const MAX_ENTRIES = 10;

/**
 * The pipeline's events on an EventBridge bus: `source` aperture, `detail-type` the event's type,
 * `detail` the event. A refused entry (throttled, an internal failure) is reported by id, not thrown,
 * so the entries that went through are not published twice.
 */
export class EventBridgeBus implements EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly PipelineEvent[]): Promise<{ refused: string[] }> {
    const refused: string[] = [];
    for (let start = 0; start < events.length; start += MAX_ENTRIES) {
      const chunk = events.slice(start, start + MAX_ENTRIES);
      const { Entries = [] } = await this.send(chunk.map((event) => this.entry(event)));
      // Entries answer the request's entries in order; an entry with an ErrorCode was not published.
      chunk.forEach((event, index) => {
        if (Entries[index]?.ErrorCode || !Entries[index]?.EventId) refused.push(event.id);
      });
    }
    return { refused };
  }

  private entry(event: PipelineEvent): PutEventsRequestEntry {
    return {
      EventBusName: this.busName,
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: JSON.stringify(event),
      Time: new Date(event.occurredAt),
    };
  }

  private async send(entries: PutEventsRequestEntry[]) {
    try {
      return await this.client.send(new PutEventsCommand({ Entries: entries }));
    } catch (error) {
      throw toDomainError(error, 'publish events', { eventIds: entries.length });
    }
  }
}
