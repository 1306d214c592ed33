/// <reference path="./libheif-js.d.ts" />
import createLibheif, { type Libheif } from 'libheif-js/libheif-wasm/libheif-bundle.js';
import { UnreadableHeifError } from './container.js';
import { tiffHead } from './tiff.js';

type Failure = ReturnType<Libheif['heif_context_read_from_memory']>;

const isFailure = (value: object): value is Failure => 'code' in value;

function failure(libheif: Libheif, error: Failure): UnreadableHeifError {
  const endOfData = error.subcode.value === libheif.heif_suberror_End_of_data.value;
  return new UnreadableHeifError(endOfData ? 'truncated' : 'undecodable', `libheif: ${error.message.trim()}`);
}

let instance: Libheif | undefined;

/**
 * One module for the process, made on first use so that no other input pays for it. A module of its
 * own per decode would hand its memory back (a WebAssembly memory only grows, so the shared one keeps
 * the largest image's buffers: some 100 MB after a 12 MP photo), but measured 50% more CPU per
 * decode, its code compiled anew each time, and the memories waited for the garbage collector anyway.
 */
function sharedLibheif(): Libheif {
  instance ??= createLibheif();
  return instance;
}

/**
 * Decodes a HEIF's primary image (HEVC, grid-tiled as phones write it) with libheif and libde265
 * compiled to WebAssembly, as an uncompressed TIFF carrying `icc`: libvips then reads it like any
 * other input. libheif applies the container's rotation and mirroring (`irot`, `imir`) itself, so the
 * pixels are upright, and the TIFF carries no orientation that anything could apply a second time.
 *
 * Synchronous: libheif decodes in one call, on the calling thread.
 */
export function decodeHeifAsTiff(bytes: Uint8Array, icc: Uint8Array | undefined): Buffer {
  const libheif = sharedLibheif();
  const context = libheif.heif_context_alloc();
  try {
    const read = libheif.heif_context_read_from_memory(context, bytes);
    if (read.code.value !== libheif.heif_error_Ok.value) throw failure(libheif, read);
    const handle = libheif.heif_js_context_get_primary_image_handle(context);
    if (isFailure(handle)) throw failure(libheif, handle);
    try {
      const alpha = Boolean(libheif.heif_image_handle_has_alpha_channel(handle));
      const decoded = libheif.heif_js_decode_image2(
        handle,
        libheif.heif_colorspace_RGB,
        alpha ? libheif.heif_chroma_interleaved_RGBA : libheif.heif_chroma_interleaved_RGB,
      );
      if (isFailure(decoded)) throw failure(libheif, decoded);
      try {
        const plane = decoded.channels.find(
          (channel) => channel.id.value === libheif.heif_channel_interleaved.value,
        );
        if (!plane) throw new UnreadableHeifError('undecodable', 'libheif decoded no interleaved RGB plane');
        const channels = alpha ? 4 : 3;
        const { width, height, stride, data } = plane;
        const head = tiffHead(
          {
            width,
            height,
            channels,
            premultiplied: Boolean(libheif.heif_image_handle_is_premultiplied_alpha(handle)),
          },
          icc,
        );
        // The plane is a view of the module's memory, gone once the image is released: copied
        // row by row (rows may be padded to `stride`) straight into the TIFF.
        const rowBytes = width * channels;
        const tiff = Buffer.allocUnsafe(head.length + rowBytes * height);
        head.copy(tiff);
        for (let row = 0; row < height; row++) {
          tiff.set(data.subarray(row * stride, row * stride + rowBytes), head.length + row * rowBytes);
        }
        return tiff;
      } finally {
        libheif.heif_image_release(decoded.image);
      }
    } finally {
      libheif.heif_image_handle_release(handle);
    }
  } finally {
    libheif.heif_context_free(context);
  }
}
