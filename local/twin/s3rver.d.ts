/** The part of s3rver 3.x (which ships no types) that the twin uses. */
declare module 's3rver' {
  import { EventEmitter } from 'node:events';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  namespace S3rver {
    interface Options {
      /** Where buckets and objects are stored on disk. */
      directory?: string;
      /** Turns off its request logging and Koa's error printing. */
      silent?: boolean;
    }

    /** The parts of s3rver's filesystem store that the twin overrides or uses. */
    interface FilesystemStore {
      copyObject(
        srcBucket: string,
        srcKey: string,
        destBucket: string,
        destKey: string,
        replacementMetadata: unknown,
      ): Promise<unknown>;
      deleteObject(bucket: string, key: string): Promise<void>;
      getMetadata(bucket: string, key: string): Promise<unknown>;
      /** The file that holds `resource` (`object`, `metadata.json`) of a key; `uploads` (no key): multipart uploads. */
      getResourcePath(bucket: string, key: string | undefined, resource: string): string;
      /** Stores one part of a multipart upload (the request's body). */
      putPart(
        bucket: string,
        uploadId: string,
        partNumber: string,
        content: import('node:stream').Readable,
      ): Promise<{ size: number; md5: string }>;
      /** Assembles a multipart upload's object from the listed parts (ETags unquoted). */
      putObjectMultipart(
        bucket: string,
        uploadId: string,
        parts: Array<{ number: number; etag: string }>,
      ): Promise<{ size: number; md5: string }>;
    }

    /** One record of an AWS-style event notification as s3rver builds it. */
    interface EventRecord {
      eventName: string;
      s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
    }
  }

  class S3rver extends EventEmitter {
    constructor(options?: S3rver.Options);
    /** Its filesystem store, which the twin mends (see `mendStore` in s3.ts). */
    store: S3rver.FilesystemStore;
    /** A request listener for a server the caller creates and owns. */
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    on(event: 'event', listener: (event: { Records: S3rver.EventRecord[] }) => void): this;
    on(event: string | symbol, listener: (...args: unknown[]) => void): this;
  }

  export = S3rver;
}

/** s3rver's S3 error, which its error handler answers as S3 does (status, XML body). */
declare module 's3rver/lib/models/error.js' {
  class S3Error extends Error {
    constructor(code: string, message?: string, detail?: Record<string, string>);
    readonly code: string;
    readonly status: number;
    toXML(): string;
  }
  export = S3Error;
}
