import type { ParseArgsConfig } from 'node:util';
import type { PipelineAdapters } from '../adapters/aws/pipeline-adapters.js';
import type { ProgressLine } from './progress.js';

export type OptionValues = Record<string, string | boolean | undefined>;

/** What every command runs with, built by the CLI from the target and the common flags. */
export interface CommandContext {
  adapters: PipelineAdapters;
  now: () => Date;
  /** `--stuck-after`: work queued longer ago than this and not done is taken for lost. */
  stuckAfterMs: number;
  progress: ProgressLine;
}

/** One subcommand: its flags, and what it prints for people (`text`) and for machines (`json`). */
export interface Command {
  summary: string;
  /** Its own flags, one per line, for `aperture <command> --help`. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Whether these flags make it queue render jobs (refused when nothing would read the queues). */
  queuesJobs(values: OptionValues): boolean;
  run(context: CommandContext, values: OptionValues): Promise<{ text: string; json: unknown }>;
}
