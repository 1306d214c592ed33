import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type S3rver from 's3rver';
import S3Error from 's3rver/lib/models/error.js';

/**
 * What s3rver 3.7.1 lacks of S3's multipart uploads, covered from its own files (ADR 4). s3rver keeps
 * an upload in `{bucket}/._S3rver_uploads/{uploadId}/`: its `key`, the create request's headers as
 * `metadata`, and each part as `{partNumber}` with its MD5 in `{partNumber}.md5`, all removed once the
 * upload is completed. It implements create, UploadPart and Complete only, and those laxly.
 */
export interface MultipartCover {
  /** Answers ListParts, AbortMultipartUpload and ListMultipartUploads; false for any other request. */
  serve(request: IncomingMessage, response: ServerResponse): boolean;
  /** Whether the object just created at this key was a completed multipart upload (asked once per event). */
  tookCompletion(bucket: string, key: string): boolean;
}

/** S3's smallest part, but for the last. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;
/** S3's page sizes for ListParts and ListMultipartUploads. */
const PAGE = 1000;

export function coverMultipart(store: S3rver.FilesystemStore): MultipartCover {
  const uploadsDir = (bucket: string) => store.getResourcePath(bucket, undefined, 'uploads');
  const uploadDir = (bucket: string, uploadId: string) => join(uploadsDir(bucket), uploadId);
  /** The key an upload was created for, or undefined when S3 would not know the upload. */
  const keyOf = async (bucket: string, uploadId: string) => {
    if (!/^[0-9a-f]+$/.test(uploadId)) return undefined;
    return readFile(join(uploadDir(bucket, uploadId), 'key'), 'utf8').catch(() => undefined);
  };
  const noSuchUpload = (uploadId: string) =>
    new S3Error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    );
  const completions = new Set<string>();

  // UploadPart: s3rver makes the upload's directory for any id it is given, so a part sent after an
  // abort (or to a made-up id) is stored; S3 answers NoSuchUpload, and refuses numbers out of range.
  const putPart = store.putPart.bind(store);
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const number = Number(partNumber);
    const refusal = !(Number.isInteger(number) && number >= 1 && number <= MAX_PART_NUMBER)
      ? new S3Error(
          'InvalidArgument',
          `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
          {
            ArgumentName: 'partNumber',
            ArgumentValue: String(partNumber),
          },
        )
      : (await keyOf(bucket, uploadId)) === undefined
        ? noSuchUpload(uploadId)
        : undefined;
    if (refusal) {
      // Read the body to its end so the client hears the answer rather than a reset.
      content.resume();
      throw refusal;
    }
    return putPart(bucket, uploadId, partNumber, content);
  };

  // CompleteMultipartUpload: s3rver concatenates whatever part files the list names, checking
  // nothing, and fails with a 500 for an unknown upload or a missing part. S3 checks the list against
  // the parts it holds and the object's ETag is the MD5 of the parts' MD5s, `-` the part count.
  const putObjectMultipart = store.putObjectMultipart.bind(store);
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const key = await keyOf(bucket, uploadId);
    if (key === undefined) throw noSuchUpload(uploadId);
    const held: Array<{ size: number; md5: string }> = [];
    for (const [i, part] of parts.entries()) {
      if (i > 0 && part.number <= (parts[i - 1]?.number ?? 0)) {
        throw new S3Error(
          'InvalidPartOrder',
          'The list of parts was not in ascending order. Parts must be ordered by part number.',
        );
      }
      const file = join(uploadDir(bucket, uploadId), String(part.number));
      const [stored, md5] = await Promise.all([
        stat(file).catch(() => undefined),
        readFile(`${file}.md5`, 'utf8').catch(() => undefined),
      ]);
      if (!stored || md5 !== part.etag) {
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          { UploadId: uploadId, PartNumber: String(part.number), ETag: part.etag },
        );
      }
      held.push({ size: stored.size, md5 });
    }
    // Only once every part is found are their sizes judged, as S3 does.
    const small = held.findIndex((part, i) => i < held.length - 1 && part.size < MIN_PART_BYTES);
    if (small >= 0) {
      throw new S3Error(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
        {
          ProposedSize: String(held[small]?.size),
          MinSizeAllowed: String(MIN_PART_BYTES),
          PartNumber: String(parts[small]?.number),
        },
      );
    }
    const digests = held.map((part) => Buffer.from(part.md5, 'hex'));
    const { size } = await putObjectMultipart(bucket, uploadId, parts);
    const etag = `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${parts.length}`;
    await writeFile(`${store.getResourcePath(bucket, key, 'object')}.md5`, etag);
    completions.add(`${bucket}/${key}`);
    return { size, md5: etag };
  };

  async function listParts(bucket: string, key: string, uploadId: string, query: URLSearchParams) {
    if ((await keyOf(bucket, uploadId)) !== key) throw noSuchUpload(uploadId);
    const marker = Number(query.get('part-number-marker') ?? 0);
    const maxParts = Math.min(Number(query.get('max-parts') ?? PAGE), PAGE);
    const dir = uploadDir(bucket, uploadId);
    const names = await readdir(dir);
    // s3rver writes a part's MD5 once its body has all arrived: a part without one was cut off
    // mid-body, which S3 never keeps.
    const numbers = names
      .filter((name) => /^[0-9]+$/.test(name) && names.includes(`${name}.md5`))
      .map(Number)
      .filter((number) => number > marker)
      .sort((a, b) => a - b);
    const page = numbers.slice(0, maxParts);
    const parts = await Promise.all(
      page.map(async (number) => {
        const file = join(dir, String(number));
        const [held, md5] = await Promise.all([stat(file), readFile(`${file}.md5`, 'utf8')]);
        return { number, size: held.size, md5, lastModified: held.mtime };
      }),
    );
    const truncated = numbers.length > page.length;
    return document('ListPartsResult', [
      text('Bucket', bucket),
      text('Key', key),
      text('UploadId', uploadId),
      text('PartNumberMarker', String(marker)),
      text('NextPartNumberMarker', String(page.at(-1) ?? marker)),
      text('MaxParts', String(maxParts)),
      text('IsTruncated', String(truncated)),
      text('StorageClass', 'STANDARD'),
      ...parts.map((part) =>
        element('Part', [
          text('PartNumber', String(part.number)),
          text('LastModified', part.lastModified.toISOString()),
          text('ETag', `"${part.md5}"`),
          text('Size', String(part.size)),
        ]),
      ),
    ]);
  }

  async function abort(bucket: string, key: string, uploadId: string) {
    if ((await keyOf(bucket, uploadId)) !== key) throw noSuchUpload(uploadId);
    await rm(uploadDir(bucket, uploadId), { recursive: true, force: true });
  }

  async function listUploads(bucket: string, query: URLSearchParams) {
    const prefix = query.get('prefix') ?? '';
    const keyMarker = query.get('key-marker') ?? '';
    const uploadIdMarker = query.get('upload-id-marker') ?? '';
    const maxUploads = Math.min(Number(query.get('max-uploads') ?? PAGE), PAGE);
    const ids = await readdir(uploadsDir(bucket)).catch(() => [] as string[]);
    const uploads = (
      await Promise.all(
        ids.map(async (uploadId) => {
          const file = join(uploadDir(bucket, uploadId), 'key');
          const [key, created] = await Promise.all([
            readFile(file, 'utf8').catch(() => undefined),
            stat(file).catch(() => undefined),
          ]);
          return key !== undefined && created && key.startsWith(prefix)
            ? [{ key, uploadId, initiated: created.mtime }]
            : [];
        }),
      )
    )
      .flat()
      // S3's order: by key, then a key's uploads by when they started.
      .sort(
        (a, b) =>
          a.key.localeCompare(b.key) ||
          a.initiated.getTime() - b.initiated.getTime() ||
          a.uploadId.localeCompare(b.uploadId),
      );
    const markerAt = uploads.findIndex((u) => u.key === keyMarker && u.uploadId === uploadIdMarker);
    const rest =
      uploadIdMarker && markerAt >= 0
        ? uploads.slice(markerAt + 1)
        : uploads.filter((u) => keyMarker === '' || u.key > keyMarker);
    const page = rest.slice(0, maxUploads);
    const truncated = rest.length > page.length;
    const last = page.at(-1);
    return document('ListMultipartUploadsResult', [
      text('Bucket', bucket),
      text('KeyMarker', keyMarker),
      text('UploadIdMarker', uploadIdMarker),
      ...(truncated && last
        ? [text('NextKeyMarker', last.key), text('NextUploadIdMarker', last.uploadId)]
        : []),
      text('Prefix', prefix),
      text('MaxUploads', String(maxUploads)),
      text('IsTruncated', String(truncated)),
      ...page.map((upload) =>
        element('Upload', [
          text('Key', upload.key),
          text('UploadId', upload.uploadId),
          text('Initiated', upload.initiated.toISOString()),
          text('StorageClass', 'STANDARD'),
        ]),
      ),
    ]);
  }

  /** The request's answer as XML, or 204 for an empty one; undefined for a request not covered here. */
  function answer(request: IncomingMessage): Promise<string | null> | undefined {
    const url = new URL(request.url ?? '/', 'http://twin');
    const [bucket = '', ...keyParts] = url.pathname.slice(1).split('/').map(decodeURIComponent);
    const key = keyParts.join('/');
    const uploadId = url.searchParams.get('uploadId');
    if (!bucket) return undefined;
    if (request.method === 'GET' && !key && url.searchParams.has('uploads')) {
      return listUploads(bucket, url.searchParams);
    }
    if (!key || uploadId === null) return undefined;
    if (request.method === 'GET' && !url.searchParams.has('partNumber')) {
      return listParts(bucket, key, uploadId, url.searchParams);
    }
    if (request.method === 'DELETE') return abort(bucket, key, uploadId).then(() => null);
    return undefined;
  }

  return {
    serve(request, response) {
      const answered = answer(request);
      if (!answered) return false;
      request.resume();
      answered.then(
        (body) => {
          if (body === null) response.writeHead(204).end();
          else send(response, 200, body);
        },
        (error: unknown) => {
          const s3Error = error instanceof S3Error ? error : new S3Error('InternalError', String(error));
          send(response, s3Error.status, s3Error.toXML());
        },
      );
      return true;
    },
    tookCompletion: (bucket, key) => completions.delete(`${bucket}/${key}`),
  };
}

function send(response: ServerResponse, status: number, xml: string): void {
  response.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  response.end(xml);
}

const escapeXml = (value: string) =>
  value.replace(/[<>&'"]/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`);

function text(tag: string, value: string): string {
  return `<${tag}>${escapeXml(value)}</${tag}>`;
}

function element(tag: string, children: string[]): string {
  return `<${tag}>${children.join('')}</${tag}>`;
}

/** A whole answer: its root element in S3's namespace. */
function document(tag: string, children: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${tag} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${children.join('')}</${tag}>`;
}
