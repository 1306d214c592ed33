import { getCiphers, randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import S3rver from 's3rver';
import { TwinStartError } from './errors.js';
import { endpointUrl, listen, stopServer } from './net.js';
import { coverMultipart } from './s3-multipart.js';

/** An object landed in a bucket: what an S3 `ObjectCreated` notification tells its consumer. */
export interface ObjectCreatedRecord {
  bucket: string;
  /**
   * The object key as stored. Real S3 notifications URL-encode it (spaces as `+`), so whoever turns
   * this record into an `S3Event` for a handler must encode it the same way.
   */
  key: string;
  size: number;
  /** The MD5 hex digest, unquoted, as in S3 notifications. */
  eTag: string;
  /** `ObjectCreated:Put`, `:Post` or `:CompleteMultipartUpload`, as S3 names the event. */
  eventName: string;
}

export type ObjectCreatedListener = (record: ObjectCreatedRecord) => void;

export interface S3Emulator {
  endpoint: string;
  /** Subscribes to object creations in every bucket; returns the unsubscribe function. */
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  /**
   * From now on, refuses every browser request (one with an `Origin`) from other origins than
   * these; until then, browsers of any origin are served.
   */
  admitBrowserOrigins(origins: readonly string[]): void;
  stop(): Promise<void>;
}

export interface S3EmulatorOptions {
  host: string;
  /** 0 lets the OS pick. */
  port: number;
  /** Where buckets and objects live; the caller owns (and removes) it. */
  directory: string;
}

/** s3rver on a server we own, so we choose the interface, learn the port and can close every socket. */
export async function startS3(options: S3EmulatorOptions): Promise<S3Emulator> {
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through
  // its legacy provider: without it the second page of any listing fails with a 500. Refuse to
  // start rather than fail later somewhere that looks unrelated.
  if (!getCiphers().includes('des')) {
    throw new TwinStartError(
      'The S3 emulator (s3rver) needs the OpenSSL legacy provider for ListObjectsV2 paging: ' +
        'run Node with NODE_OPTIONS=--openssl-legacy-provider (the npm scripts set it).',
    );
  }
  const s3rver = new S3rver({ directory: options.directory, silent: true });
  mendStore(s3rver.store);
  const multipart = coverMultipart(s3rver.store);
  const listeners = new Set<ObjectCreatedListener>();
  s3rver.on('event', ({ Records }) => {
    for (const { eventName, s3 } of Records) {
      const { key, size, eTag } = s3.object;
      // s3rver leaves the ETag out of ObjectCreated:Copy records; the pipeline only listens for
      // uploads (PUT, POST, multipart), which carry it, so copies are not forwarded.
      if (!eventName.startsWith('ObjectCreated:') || size === undefined || eTag === undefined) continue;
      // s3rver reports a completed multipart upload as `ObjectCreated:Post`.
      const name = multipart.tookCompletion(s3.bucket.name, key)
        ? 'ObjectCreated:CompleteMultipartUpload'
        : eventName;
      const record: ObjectCreatedRecord = { bucket: s3.bucket.name, key, size, eTag, eventName: name };
      // Like S3, notify after the fact: a throwing listener must not fail the upload request.
      for (const listener of listeners) setImmediate(listener, record);
    }
  });

  // s3rver serves unsigned requests as if every bucket were public and ignores POST policies, so
  // any web page could list the buckets or write into them with a form. Origins are the line.
  let admitted: ReadonlySet<string> | undefined;
  const serve = s3rver.callback();
  const server = createServer((request, response) => {
    const origin = request.headers.origin;
    if (origin === undefined || !admitted || admitted.has(origin)) {
      if (!multipart.serve(request, response)) serve(request, response);
      return;
    }
    const text =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>The twin admits browsers from the demo page only</Message></Error>';
    response.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  });
  let port: number;
  try {
    port = await listen(server, options.host, options.port);
  } catch (error) {
    throw new TwinStartError(`The S3 emulator could not listen on ${options.host}:${options.port}`, {
      cause: error,
    });
  }
  return {
    endpoint: endpointUrl(options.host, port),
    onObjectCreated(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    admitBrowserOrigins(origins) {
      admitted = new Set(origins);
    },
    stop: () => {
      listeners.clear();
      return stopServer(server);
    },
  };
}

/** Makes s3rver's store behave as S3 does where the pipeline's races meet the difference. */
function mendStore(store: S3rver.FilesystemStore): void {
  makeCopiesAtomic(store);
  keepDirectoriesOnDelete(store);
}

/**
 * s3rver removes a key's directories once a delete leaves them empty. A PUT into the same prefix at
 * that moment has just made them and finds them gone: its write stream fails with nobody listening,
 * which kills the process hosting the emulator (seen in the bulk resume test: an upload re-sent while
 * ingest deletes the last object under `uploads/`). Deletes here remove only the key's files.
 */
function keepDirectoriesOnDelete(store: S3rver.FilesystemStore): void {
  store.deleteObject = async (bucket, key) => {
    const object = store.getResourcePath(bucket, key, 'object');
    const files = [object, `${object}.md5`, store.getResourcePath(bucket, key, 'metadata.json')];
    await Promise.all(files.map((path) => rm(path, { force: true })));
  };
}

/** Where a copy is staged before it takes its key: a prefix no Aperture listing reads. */
const STAGING_PREFIX = '.twin-staging/';

/**
 * S3's CopyObject is atomic: a copy whose source vanishes mid-way fails and leaves the destination as
 * it was. s3rver copies straight into the destination's file, so such a copy destroys the object a
 * concurrent copy had just written there (the fault suite met it: ingest copying an upload to
 * `originals/` while a redelivered event, done, deletes that upload). Copies are staged under a key
 * of their own and moved into place once whole.
 */
function makeCopiesAtomic(store: S3rver.FilesystemStore): void {
  const copyInPlace = store.copyObject.bind(store);
  store.copyObject = async (srcBucket, srcKey, destBucket, destKey, replacementMetadata) => {
    const staged = `${STAGING_PREFIX}${randomUUID()}`;
    const from = (resource: string) => store.getResourcePath(destBucket, staged, resource);
    const to = (resource: string) => store.getResourcePath(destBucket, destKey, resource);
    try {
      await copyInPlace(srcBucket, srcKey, destBucket, staged, replacementMetadata);
    } catch (error) {
      const partial = [from('object'), `${from('object')}.md5`, from('metadata.json')];
      await Promise.all(partial.map((path) => rm(path, { force: true })));
      throw error;
    }
    await mkdir(dirname(to('object')), { recursive: true });
    await rename(from('metadata.json'), to('metadata.json'));
    // The digest file exists only when the copy kept the source's; a stale one must not outlive it.
    await rename(`${from('object')}.md5`, `${to('object')}.md5`).catch(
      async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        await rm(`${to('object')}.md5`, { force: true });
      },
    );
    await rename(from('object'), to('object'));
    return store.getMetadata(destBucket, destKey);
  };
}
