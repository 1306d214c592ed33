/**
 * The part of libheif-js (libheif 1.x and libde265 compiled to WebAssembly, the binary inlined) that
 * `decode.ts` uses. The package ships no types for its bundle; these follow its embind bindings.
 */
declare module 'libheif-js/libheif-wasm/libheif-bundle.js' {
  interface EnumValue {
    value: number;
  }
  /** libheif's `heif_error`: `code` 0 is success. */
  interface HeifError {
    code: EnumValue;
    subcode: EnumValue;
    message: string;
  }
  /** Opaque: libheif's own structures, in the module's memory until freed or released. */
  interface Context {
    readonly __context: unique symbol;
  }
  interface ImageHandle {
    readonly __handle: unique symbol;
  }
  interface Image {
    readonly __image: unique symbol;
  }
  interface Channel {
    id: EnumValue;
    width: number;
    height: number;
    stride: number;
    /** A view of the module's memory: valid until the image is released. */
    data: Uint8Array;
  }
  interface DecodedImage {
    image: Image;
    width: number;
    height: number;
    channels: Channel[];
  }
  export interface Libheif {
    heif_error_Ok: EnumValue;
    heif_suberror_End_of_data: EnumValue;
    heif_colorspace_RGB: EnumValue;
    heif_chroma_interleaved_RGB: EnumValue;
    heif_chroma_interleaved_RGBA: EnumValue;
    heif_channel_interleaved: EnumValue;
    heif_context_alloc(): Context;
    heif_context_free(context: Context): void;
    heif_context_read_from_memory(context: Context, bytes: Uint8Array): HeifError;
    heif_js_context_get_primary_image_handle(context: Context): ImageHandle | HeifError;
    heif_image_handle_release(handle: ImageHandle): void;
    heif_image_handle_has_alpha_channel(handle: ImageHandle): number;
    heif_image_handle_is_premultiplied_alpha(handle: ImageHandle): number;
    heif_js_decode_image2(
      handle: ImageHandle,
      colorspace: EnumValue,
      chroma: EnumValue,
    ): DecodedImage | HeifError;
    heif_image_release(image: Image): void;
  }
  /** Instantiates the module (synchronously); each instance has a memory of its own. */
  export default function createLibheif(options?: object): Libheif;
}
