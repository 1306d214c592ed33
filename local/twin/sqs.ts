import { buildApp } from 'fauxqs';
import { TwinStartError } from './errors.js';
import { endpointUrl } from './net.js';

export interface SqsEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

export interface SqsEmulatorOptions {
  host: string;
  /** 0 lets the OS pick. */
  port: number;
}

/**
 * fauxqs, in memory. Built with buildApp rather than startFauxqs because the latter always listens on
 * 0.0.0.0; here we choose the interface. Its queue URLs look like
 * `http://sqs.us-east-1.localhost:{port}/000000000000/{name}`: names, not addresses, so SQS clients
 * need the endpoint set (createAwsClients sets it, which also stops the SDK routing by queue URL).
 */
export async function startSqs(options: SqsEmulatorOptions): Promise<SqsEmulator> {
  const app = buildApp({ logger: false });
  let address: string;
  try {
    address = await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app.close();
    throw new TwinStartError(`The SQS emulator could not listen on ${options.host}:${options.port}`, {
      cause: error,
    });
  }
  return {
    endpoint: endpointUrl(options.host, Number(new URL(address).port)),
    // fauxqs sets forceCloseConnections and ends pending long polls on close.
    stop: () => app.close(),
  };
}
