import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { EventBridgeEvent } from 'aws-lambda';
import { EVENT_SOURCE, type EventType, type PipelineEvent } from '../../lambdas/core/events.js';
import type { EventBus } from '../../lambdas/ports/event-bus.js';

/** An event as EventBridge hands it to a rule's target. */
export type EventEnvelope = EventBridgeEvent<EventType, PipelineEvent>;

/** A rule's target: where EventBridge would send the event (a queue, a function). */
export type EventTarget = (envelope: EventEnvelope) => Promise<void>;

/**
 * Plays the EventBridge bus on a laptop: every event goes, as EventBridge's envelope, to each target
 * (as a rule matching `source: aperture` would send it), and to the local API's listeners (the demo
 * page's event stream). A target that fails is logged and does not refuse the event: on AWS, the bus
 * took it and retrying the target is EventBridge's business.
 */
export class LocalEventBus implements EventBus {
  private readonly targets: EventTarget[] = [];
  private readonly listeners = new Set<(event: PipelineEvent) => void>();

  constructor(
    private readonly region: string,
    private readonly logger: Logger,
  ) {}

  addTarget(target: EventTarget): void {
    this.targets.push(target);
  }

  /** Hears every event from now on; returns the function that stops it. */
  listen(listener: (event: PipelineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish(events: readonly PipelineEvent[]): Promise<{ refused: string[] }> {
    for (const event of events) {
      for (const listener of this.listeners) listener(event);
      const envelope = eventEnvelope(event, this.region);
      await Promise.all(
        this.targets.map((target) =>
          target(envelope).catch((error: unknown) =>
            this.logger.error('event target failed', { eventId: event.id, error: error as Error }),
          ),
        ),
      );
    }
    return { refused: [] };
  }
}

/** The event as EventBridge would hand it to a rule's target, in the local account. */
export function eventEnvelope(event: PipelineEvent, region: string): EventEnvelope {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': event.type,
    source: EVENT_SOURCE,
    account: '000000000000',
    time: event.occurredAt,
    region,
    resources: [],
    detail: event,
  };
}
