/**
 * Files from this size on go to S3 in parts, each presigned and sent on its own, so that a dropped
 * connection costs the part in flight rather than the file. Smaller files go in one POST form, one
 * request where parts take several, and restarting one costs little.
 */
export const MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024;
