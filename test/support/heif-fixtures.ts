/**
 * Two tiny real HEICs, the HEVC source the HEIF builder assembles files from, so that no test needs
 * an encoder (CI has none). Each is 64x64 in four quadrants: red top left, green top right, blue
 * bottom left, yellow bottom right; the second has an alpha plane, opaque on the left half and
 * transparent on the right.
 *
 * Made with Debian's libheif-examples 1.15.1 (x265 encoder), from the repository root:
 *
 *   node --input-type=module -e "
 *   import sharp from 'sharp';
 *   const colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]]; // top left, top right, bottom left, bottom right
 *   for (const alpha of [false, true]) {
 *     const raw = Buffer.alloc(64 * 64 * 4);
 *     for (let i = 0; i < 64 * 64; i++) {
 *       const [x, y] = [i % 64, Math.floor(i / 64)];
 *       raw.set([...colours[(y < 32 ? 0 : 2) + (x < 32 ? 0 : 1)], alpha && x >= 32 ? 0 : 255], i * 4);
 *     }
 *     const image = sharp(raw, { raw: { width: 64, height: 64, channels: 4 } });
 *     await (alpha ? image : image.removeAlpha()).png().toFile(alpha ? 'quadrants-alpha.png' : 'quadrants.png');
 *   }"
 *   heif-enc -q 90 -o quadrants.heic quadrants.png
 *   heif-enc -q 90 -o quadrants-alpha.heic quadrants-alpha.png
 *   base64 -w 100 quadrants.heic quadrants-alpha.heic
 */

/** quadrants.heic (424 bytes, SHA-256 527c2969…c30f5a9). */
export const QUADRANTS_HEIC = Buffer.from(
  'AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAUJtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAAAAAA' +
    'AA5waXRtAAAAAAABAAAAImlsb2MAAAAAREAAAQABAAAAAAFmAAEAAAAAAAAAQgAAACNpaW5mAAAAAAABAAAAFWluZmUCAAAAAAEA' +
    'AGh2YzEAAAAAwmlwcnAAAACkaXBjbwAAAHhodmNDAQNwAAAAAAAAAAAAHvAA/P34+AAADwMgAAEAGEABDAH//wNwAAADAJAAAAMA' +
    'AAMAHroCQCEAAQArQgEBA3AAAAMAkAAAAwAAAwAeoCCBBZbqSSmubgQEDAgAAAMACAAAAwAIQCIAAQAHRAHBcrAiQAAAABRpc3Bl' +
    'AAAAAAAAAEAAAABAAAAAEHBpeGkAAAAAAwgICAAAABZpcG1hAAAAAAAAAAEAAQOBAoMAAABKbWRhdAAAAD4oAa8GOFr8/Tf5ne//' +
    '/8r13of72DhsJX+XLl//03u///gEvLGY/jkKEb+mWG//8fYrLUH72Z9/9Lqf1+69WQ==',
  'base64',
);

/** quadrants-alpha.heic (711 bytes, SHA-256 e40a316c…2d94c17): the same picture with an alpha plane. */
export const QUADRANTS_ALPHA_HEIC = Buffer.from(
  'AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAkVtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAAAAAA' +
    'AA5waXRtAAAAAAABAAAANGlsb2MAAAAAREAAAgABAAAAAAJpAAEAAAAAAAAAQgACAAAAAAKrAAEAAAAAAAAAHAAAADhpaW5mAAAA' +
    'AAACAAAAFWluZmUCAAAAAAEAAGh2YzEAAAAAFWluZmUCAAAAAAIAAGh2YzEAAAABhGlwcnAAAAFfaXBjbwAAAHhodmNDAQNwAAAA' +
    'AAAAAAAAHvAA/P34+AAADwMgAAEAGEABDAH//wNwAAADAJAAAAMAAAMAHroCQCEAAQArQgEBA3AAAAMAkAAAAwAAAwAeoCCBBZbq' +
    'SSmubgQEDAgAAAMACAAAAwAIQCIAAQAHRAHBcrAiQAAAABRpc3BlAAAAAAAAAEAAAABAAAAAEHBpeGkAAAAAAwgICAAAAHJodmND' +
    'AQQIAAAAAAAAAAAAHvAA/Pz4+AAADwMgAAEAF0ABDAH//wQIAAADAJ/4AAADAAAeugJAIQABACZCAQEECAAAAwCf+AAAAwAAHsCC' +
    'BBZbqSSmubAgAAADACAAAAMAISIAAQAHRAHBcrAiQAAAABRpc3BlAAAAAAAAAEAAAABAAAAADnBpeGkAAAAAAQgAAAAnYXV4QwAA' +
    'AAB1cm46bXBlZzpoZXZjOjIwMTU6YXV4aWQ6MQAAAAAdaXBtYQAAAAAAAAACAAEDgQKDAAIEhAWGhwAAABppcmVmAAAAAAAAAA5h' +
    'dXhsAAIAAQABAAAAZm1kYXQAAAA+KAGvBjha/P03+Z3v///K9d6H+9g4bCV/ly5f/9N7v//4BLyxmP45ChG/plhv//H2Ky1B+9mf' +
    'f/S6n9fuvVkAAAAYKAGuDHB1BeW/8HNRTZf+pfCPo2r/iDmM',
  'base64',
);
