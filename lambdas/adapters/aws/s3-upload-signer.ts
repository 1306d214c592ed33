import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { SingleUploadGrant } from '../../core/uploads.js';
import type { PresignedUpload, UploadSigner } from '../../ports/upload-signer.js';
import { toDomainError } from './dependency-errors.js';

const metadataField = (name: string) => `x-amz-meta-${name}`;

/** Signs uploads that S3 itself holds to the grant: the key, the exact size and type, and the checksum if known. */
export class S3UploadSigner implements UploadSigner {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async presign(grant: SingleUploadGrant): Promise<PresignedUpload> {
    const expiresIn = Math.max(1, Math.round((grant.expiresAt.getTime() - Date.now()) / 1000));
    try {
      return grant.method === 'POST'
        ? await this.presignPost(grant, expiresIn)
        : await this.presignPut(grant, expiresIn);
    } catch (error) {
      throw toDomainError(error, 'presign upload', { uploadId: grant.uploadId });
    }
  }

  private async presignPost(grant: SingleUploadGrant, expiresIn: number): Promise<PresignedUpload> {
    const fields: Record<string, string> = { 'Content-Type': grant.contentType };
    for (const [name, value] of Object.entries(grant.metadata)) fields[metadataField(name)] = value;
    // Every field becomes an exact-match policy condition; the range pins the size to what was declared.
    const { url, fields: signedFields } = await createPresignedPost(this.s3, {
      Bucket: this.bucket,
      Key: grant.key,
      Fields: fields,
      Conditions: [['content-length-range', grant.size, grant.size]],
      Expires: expiresIn,
    });
    return { method: 'POST', url, fields: signedFields, headers: {} };
  }

  private async presignPut(grant: SingleUploadGrant, expiresIn: number): Promise<PresignedUpload> {
    const checksum = grant.sha256 ? Buffer.from(grant.sha256, 'hex').toString('base64') : undefined;
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: grant.key,
      ContentType: grant.contentType,
      ContentLength: grant.size,
      ChecksumSHA256: checksum,
      Metadata: grant.metadata,
    });
    const headers: Record<string, string> = { 'content-type': grant.contentType };
    if (checksum) headers['x-amz-checksum-sha256'] = checksum;
    // Signed headers must be sent as signed: S3 then refuses another type, length or checksum.
    // Metadata is hoisted into the signed query string, so the client cannot change it either.
    const url = await getSignedUrl(this.s3, command, {
      expiresIn,
      signableHeaders: new Set(['content-type', 'content-length', 'x-amz-checksum-sha256']),
      unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
    });
    return { method: 'PUT', url, fields: {}, headers };
  }
}
