import type { InputFormat } from './formats.js';

/** What ingest learned about an accepted image by decoding it; stored on the image record. */
export interface ImageFacts {
  format: InputFormat;
  contentType: string;
  /** Of the first page, before EXIF orientation is applied. */
  width: number;
  height: number;
  pages: number;
  /** EXIF orientation 1–8, when the file carries one. */
  orientation: number | undefined;
  hasAlpha: boolean;
  hasIcc: boolean;
  animated: boolean;
  bytes: number;
}
