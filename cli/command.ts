import type { ParseArgsConfig } from 'node:util';
import type { PipelineAdapters } from '../lambdas/adapters/aws/pipeline-adapters.js';
import type { PipelineApi } from './bulk/pipeline-api.js';
import type { ProgressLine } from './progress.js';

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** What a command prints for people (`text`) and for machines (`json`); `failed` makes the exit status 1. */
export interface CommandResult {
  text: string;
  json: unknown;
  failed?: boolean;
}

interface CommandBase {
  summary: string;
  /** Its own flags, one per line, for `aperture <command> --help`. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
}

/** What a pipeline command runs with, built by the CLI from the target and the common flags. */
export interface CommandContext {
  adapters: PipelineAdapters;
  now: () => Date;
  /** `--stuck-after`: work queued longer ago than this and not done is taken for lost. */
  stuckAfterMs: number;
  progress: ProgressLine;
  /** The environment the target was read from (what a function of the pipeline would get). */
  environment: Record<string, string | undefined>;
  /** Aborted by Ctrl-C: stop taking new work, finish what is under way, report. */
  signal: AbortSignal;
}

/** An operator's command over the catalog, buckets and queues, through the functions' own adapters. */
export interface PipelineCommand extends CommandBase {
  target: 'pipeline';
  /** Its operands, as usage shows them (`ID`), if it takes any. */
  operands?: string;
  /** Whether these flags make it queue render jobs (refused when nothing would read the queues). */
  queuesJobs(values: OptionValues): boolean;
  run(context: CommandContext, values: OptionValues, operands: string[]): Promise<CommandResult>;
}

/** What an API command runs with. */
export interface ApiCommandContext {
  api: PipelineApi;
  now: () => Date;
  progress: ProgressLine;
  /** Aborted by Ctrl-C: stop taking new work, finish what is under way, report. */
  signal: AbortSignal;
}

/** A command that brings images in through the HTTP API, as any app would: the pipeline's own checks apply. */
export interface ApiCommand extends CommandBase {
  target: 'api';
  /** Its operands, as usage shows them (`DIR`). */
  operands: string;
  run(context: ApiCommandContext, values: OptionValues, operands: string[]): Promise<CommandResult>;
}

/** What an offline command runs with: nothing of a deployment, only files it is pointed at. */
export interface OfflineCommandContext {
  readFile: (path: string) => Promise<string>;
}

/** A command that needs neither a pipeline nor the HTTP API (an estimate, say): no credentials, no target. */
export interface OfflineCommand extends CommandBase {
  target: 'offline';
  run(context: OfflineCommandContext, values: OptionValues): Promise<CommandResult>;
}

export type Command = PipelineCommand | ApiCommand | OfflineCommand;
