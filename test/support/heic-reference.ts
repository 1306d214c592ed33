/**
 * A reference decode of the corpus's `ianare__iphone_13_pro_max.HEIC` (12 MP, iPhone 13 Pro Max,
 * Display P3 profile, turned a quarter by its `irot`), to hold the pipeline's HEIC renders against:
 * the mean sRGB colour of each cell of a 6 x 8 grid over the upright picture, row by row, R G B.
 *
 * Made with another decoder than the pipeline's: Debian bookworm's `heif-convert` (libheif 1.15 and
 * libde265, native), its PNG converted to sRGB from its embedded profile by sharp:
 *
 *   heif-convert ianare__iphone_13_pro_max.HEIC ref.png
 *   sharp('ref.png').resize(6, 8, { fit: 'fill' }).toColourspace('srgb').raw()
 *
 * `withoutProfile` is the same decode read as if its P3 numbers were sRGB (`ignoreIcc: true`): what
 * a render that dropped the profile would show.
 */
export const IPHONE_HEIC_REFERENCE = {
  file: 'ianare__iphone_13_pro_max.HEIC',
  grid: { columns: 6, rows: 8 },
  upright: [
    147, 144, 136, 161, 157, 145, 165, 153, 138, 169, 158, 144, 179, 168, 150, 159, 146, 123, 101, 68, 40, 90,
    69, 51, 78, 45, 25, 94, 61, 42, 126, 101, 82, 128, 114, 98, 123, 75, 29, 76, 51, 32, 59, 36, 18, 107, 91,
    77, 120, 124, 125, 100, 96, 95, 124, 100, 75, 115, 102, 91, 108, 94, 80, 130, 126, 116, 148, 143, 126,
    115, 99, 77, 121, 60, 5, 119, 67, 23, 116, 62, 12, 85, 43, 7, 117, 62, 8, 187, 124, 39, 103, 55, 6, 88,
    48, 8, 115, 61, 9, 155, 98, 32, 144, 92, 31, 189, 152, 86, 168, 107, 21, 160, 107, 33, 70, 73, 84, 100,
    94, 102, 96, 84, 85, 102, 104, 105, 176, 116, 35, 126, 99, 62, 31, 64, 115, 60, 67, 101, 79, 90, 128, 36,
    68, 116,
  ],
  withoutProfile: [
    146, 144, 136, 160, 157, 146, 163, 153, 140, 168, 158, 145, 178, 168, 152, 157, 146, 125, 97, 70, 46, 87,
    70, 54, 74, 47, 29, 89, 63, 45, 123, 102, 85, 126, 114, 101, 117, 78, 40, 73, 53, 35, 56, 37, 20, 106, 92,
    79, 121, 124, 126, 99, 96, 95, 120, 102, 82, 114, 103, 92, 107, 95, 81, 129, 126, 117, 147, 144, 129, 113,
    100, 82, 113, 63, 17, 112, 70, 30, 109, 65, 21, 80, 46, 14, 110, 64, 18, 178, 127, 61, 96, 57, 16, 82, 50,
    15, 108, 64, 17, 148, 101, 44, 137, 95, 42, 184, 154, 97, 159, 110, 43, 152, 109, 50, 73, 74, 85, 101, 95,
    102, 96, 85, 88, 103, 105, 106, 167, 119, 54, 123, 100, 72, 39, 63, 111, 63, 67, 98, 82, 90, 125, 43, 67,
    112,
  ],
} as const;
