import type { PipelineEvent } from '../core/events.js';

/** Where the pipeline's events go: an EventBridge bus in AWS, the local runtime's bus on a laptop. */
export interface EventBus {
  /** Publishes the events; returns the ids of those the bus refused (to be published again later). */
  publish(events: readonly PipelineEvent[]): Promise<{ refused: string[] }>;
}
