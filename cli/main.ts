import { type ParseArgsConfig, parseArgs } from 'node:util';
import { pipelineAdapters } from '../lambdas/adapters/aws/pipeline-adapters.js';
import { DEFAULT_STUCK_AFTER_MS } from '../lambdas/services/variant-renders.js';
import {
  API_TARGET_OPTIONS,
  API_TARGET_USAGE,
  type ApiTargetDependencies,
  openApiTarget,
} from './api-target.js';
import { parseDuration } from './arguments.js';
import type {
  ApiCommand,
  Command,
  CommandResult,
  OfflineCommand,
  OptionValues,
  PipelineCommand,
} from './command.js';
import { costCommand } from './commands/cost.js';
import {
  importCommand,
  importResumeCommand,
  importStatusCommand,
  importStopCommand,
} from './commands/import.js';
import { ingestCommand } from './commands/ingest.js';
import { migrateJsonCommand } from './commands/migrate-json.js';
import { reconcileCommand } from './commands/reconcile.js';
import { reprocessCommand } from './commands/reprocess.js';
import { statsCommand } from './commands/stats.js';
import { webhooksListCommand, webhooksReplayCommand } from './commands/webhooks.js';
import { progressLine } from './progress.js';
import { openTarget, TARGET_OPTIONS, TARGET_USAGE, type TargetDependencies } from './target.js';
import { UsageError } from './usage-error.js';

/**
 * `aperture`: the operator's command line. Each subcommand is one file in `commands/`; a name of two
 * words (`webhooks replay`) is a command of a family.
 */
const COMMANDS: Readonly<Record<string, Command>> = {
  stats: statsCommand,
  reprocess: reprocessCommand,
  reconcile: reconcileCommand,
  ingest: ingestCommand,
  'migrate-json': migrateJsonCommand,
  import: importCommand,
  'import status': importStatusCommand,
  'import stop': importStopCommand,
  'import resume': importResumeCommand,
  cost: costCommand,
  'webhooks replay': webhooksReplayCommand,
  'webhooks list': webhooksListCommand,
};

const COMMON_OPTIONS = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;

const PIPELINE_OPTIONS = {
  ...COMMON_OPTIONS,
  'stuck-after': { type: 'string' },
  ...TARGET_OPTIONS,
} satisfies NonNullable<ParseArgsConfig['options']>;

const API_OPTIONS = { ...COMMON_OPTIONS, ...API_TARGET_OPTIONS } satisfies NonNullable<
  ParseArgsConfig['options']
>;

const COMMON_USAGE = `Options of every command:
  --json                  one JSON document on stdout instead of text
  -h, --help              this help`;

const PIPELINE_USAGE = `${COMMON_USAGE}
  --stuck-after D         work queued (or begun) longer ago than this and not finished is taken
                          for lost: 90s, 30m, 2h, 1d (default 1h)

${TARGET_USAGE}`;

const API_USAGE = `${COMMON_USAGE}

${API_TARGET_USAGE}`;

/** Each kind of command's common flags, and their usage. */
const TARGETS: Readonly<
  Record<Command['target'], { options: NonNullable<ParseArgsConfig['options']>; usage: string }>
> = {
  pipeline: { options: PIPELINE_OPTIONS, usage: PIPELINE_USAGE },
  api: { options: API_OPTIONS, usage: API_USAGE },
  offline: { options: COMMON_OPTIONS, usage: COMMON_USAGE },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const commands = (target: Command['target']) =>
    Object.entries(COMMANDS)
      .filter(([, command]) => command.target === target)
      .map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`)
      .join('\n');
  return `Usage: aperture <command> [options]   (npm run aperture -- <command> [options])

Operates an Aperture pipeline: a deployment on AWS with your credentials, or the local runtime.

Commands on the catalog, buckets and queues (operator credentials):
${commands('pipeline')}

Commands that bring images in through the HTTP API (an API identity):
${commands('api')}

Commands that need no deployment (no credentials):
${commands('offline')}

${COMMON_USAGE}

Progress goes to stderr. Exit status: 0 done, 1 failed, 2 wrong usage.
aperture <command> --help shows a command's own flags.
`;
}

function commandUsage(name: string, command: Command): string {
  const operands = command.target !== 'offline' && command.operands ? ` ${command.operands}` : '';
  return `Usage: aperture ${name}${operands} [options]

${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.

Options:
${command.usage}

${TARGETS[command.target].usage}
`;
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Progress is rewritten in place on a terminal, added as lines in a log. */
  stderrIsTerminal: boolean;
}

export interface CliDependencies extends TargetDependencies, ApiTargetDependencies {
  /** @default the clock */
  now?: () => Date;
  /** Ctrl-C: commands that can stop cleanly do. */
  signal?: AbortSignal;
}

/** Runs one command line; resolves with the exit status (0 done, 1 failed, 2 wrong usage). */
export async function runCli(argv: readonly string[], io: CliIo, deps: CliDependencies): Promise<number> {
  const family = argv.length > 1 ? `${argv[0]} ${argv[1]}` : undefined;
  const [name, ...args] = family && Object.hasOwn(COMMANDS, family) ? [family, ...argv.slice(2)] : argv;
  if (name === '-h' || name === '--help') {
    io.stdout(usage());
    return 0;
  }
  const command = name === undefined ? undefined : COMMANDS[name];
  const help = command && name ? commandUsage(name, command) : usage();
  try {
    if (!command) throw new UsageError(name === undefined ? 'no command given' : `unknown command "${name}"`);
    const { values, operands } = readOptions(args, command);
    if (values.help) {
      io.stdout(help);
      return 0;
    }
    const result = await runCommand(command, values, operands, io, deps);
    io.stdout(values.json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
    return result.failed ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr(`aperture: ${(error as Error).message}\n\n${help}`);
      return 2;
    }
    io.stderr(`aperture ${name}: ${describeFailure(error)}\n`);
    return 1;
  }
}

function runCommand(
  command: Command,
  values: OptionValues,
  operands: string[],
  io: CliIo,
  deps: CliDependencies,
): Promise<CommandResult> {
  switch (command.target) {
    case 'pipeline':
      return runPipelineCommand(command, values, operands, io, deps);
    case 'api':
      return runApiCommand(command, values, operands, io, deps);
    case 'offline':
      return runOfflineCommand(command, values, deps);
  }
}

async function runPipelineCommand(
  command: PipelineCommand,
  values: OptionValues,
  operands: string[],
  io: CliIo,
  deps: CliDependencies,
): Promise<CommandResult> {
  const stuckAfter = values['stuck-after'];
  const stuckAfterMs =
    typeof stuckAfter === 'string' ? parseDuration(stuckAfter, '--stuck-after') : DEFAULT_STUCK_AFTER_MS;
  const target = await openTarget(values, deps);
  try {
    if (command.queuesJobs(values) && !target.queuesLive) {
      throw new QueuesOfflineError(
        'the local runtime is not running, so nothing would take the render jobs this queues: start it (npm start); a dry run works without it',
      );
    }
    return await command.run(
      {
        adapters: pipelineAdapters(target.config, target.clients),
        now: deps.now ?? (() => new Date()),
        stuckAfterMs,
        progress: progressLine(io.stderr, io.stderrIsTerminal),
        environment: target.env,
        signal: deps.signal ?? new AbortController().signal,
      },
      values,
      operands,
    );
  } finally {
    await target.close();
  }
}

async function runApiCommand(
  command: ApiCommand,
  values: OptionValues,
  operands: string[],
  io: CliIo,
  deps: CliDependencies,
): Promise<CommandResult> {
  const api = await openApiTarget(values, deps);
  return command.run(
    {
      api,
      now: deps.now ?? (() => new Date()),
      progress: progressLine(io.stderr, io.stderrIsTerminal),
      signal: deps.signal ?? new AbortController().signal,
    },
    values,
    operands,
  );
}

function runOfflineCommand(
  command: OfflineCommand,
  values: OptionValues,
  deps: CliDependencies,
): Promise<CommandResult> {
  return command.run({ readFile: deps.readFile }, values);
}

function readOptions(
  args: readonly string[],
  command: Command,
): { values: OptionValues; operands: string[] } {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { ...TARGETS[command.target].options, ...command.options },
    strict: true,
    allowPositionals:
      command.target === 'api' || (command.target === 'pipeline' && command.operands !== undefined),
  });
  return { values: values as OptionValues, operands: positionals };
}

/** The command would queue render jobs where nothing reads them (a stopped local runtime's queues). */
class QueuesOfflineError extends Error {
  override readonly name = 'QueuesOfflineError';
}

/** Node's parseArgs throws TypeErrors with these codes for unknown flags, missing values and strays. */
function isParseArgsError(error: unknown): boolean {
  return String((error as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
}

/** The error and its causes, one per clause: an SDK error behind a domain error is what helps. */
function describeFailure(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current !== undefined && parts.length < 4; current = (current as Error).cause) {
    parts.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
  }
  return parts.join(' ← ');
}
