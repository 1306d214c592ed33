import type { Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { fromExif, readTechnicalMetadata } from '../../../lambdas/core/render/technical-metadata.js';
import { makeImage, makeJpeg } from '../../support/images.js';
import { solid } from '../../support/pixels.js';

type ExifIfds = Parameters<Sharp['withExif']>[0];

const photo = (exif: ExifIfds, format: 'jpeg' | 'png' | 'webp' = 'jpeg') =>
  solid(32, 24, '#808080').removeAlpha().withExif(exif).toFormat(format).toBuffer();

const CAMERA: ExifIfds = {
  IFD0: { Make: 'Canon ', Model: 'Canon EOS R5', DateTime: '2024:05:07 10:00:00' },
  IFD2: {
    ExposureTime: '1/250',
    FNumber: '28/10',
    ISOSpeedRatings: '400',
    FocalLength: '50/1',
    DateTimeOriginal: '2024:05:06 07:08:09',
    OffsetTimeOriginal: '+02:00',
    LensModel: 'RF50mm F1.8 STM',
  },
  IFD3: {
    GPSLatitudeRef: 'S',
    GPSLatitude: '33/1 51/1 3564/100',
    GPSLongitudeRef: 'E',
    GPSLongitude: '151/1 12/1 4020/100',
  },
};

describe('technical metadata', () => {
  it('reads camera, lens, exposure and time, and the position only when asked', async () => {
    const original = await photo(CAMERA);
    const facts = {
      cameraMake: 'Canon',
      cameraModel: 'Canon EOS R5',
      lens: 'RF50mm F1.8 STM',
      iso: 400,
      exposureTime: 0.004,
      fNumber: 2.8,
      focalLength: 50,
      takenAt: '2024-05-06T07:08:09+02:00',
    };
    expect(await readTechnicalMetadata(original, { includeGps: false })).toEqual(facts);
    const withGps = await readTechnicalMetadata(original, { includeGps: true });
    expect(withGps).toEqual({ ...facts, latitude: expect.any(Number), longitude: expect.any(Number) });
    expect(withGps.latitude).toBeCloseTo(-(33 + 51 / 60 + 35.64 / 3600), 6);
    expect(withGps.longitude).toBeCloseTo(151 + 12 / 60 + 40.2 / 3600, 6);
  });

  it.each(['png', 'webp'] as const)('reads EXIF from %s too', async (format) => {
    const original = await photo({ IFD0: { Make: 'FUJIFILM', Model: 'X-T2' } }, format);
    expect(await readTechnicalMetadata(original, { includeGps: true })).toEqual({
      cameraMake: 'FUJIFILM',
      cameraModel: 'X-T2',
    });
  });

  it('gives local time without an offset when the camera recorded none, and falls back to other dates', async () => {
    const original = await photo({ IFD0: { DateTime: '2019:12:31 23:59:58' } });
    expect(await readTechnicalMetadata(original, { includeGps: false })).toEqual({
      takenAt: '2019-12-31T23:59:58',
    });
  });

  it('leaves out zeroed dates, null-island positions and void fixes', async () => {
    const zeroed = await photo({
      IFD2: { DateTimeOriginal: '0000:00:00 00:00:00' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '0/1 0/1 0/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '0/1 0/1 0/1',
      },
    });
    expect(await readTechnicalMetadata(zeroed, { includeGps: true })).toEqual({});
    const voidFix = await photo({
      IFD3: {
        GPSStatus: 'V',
        GPSLatitudeRef: 'N',
        GPSLatitude: '10/1 0/1 0/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '10/1 0/1 0/1',
      },
    });
    expect(await readTechnicalMetadata(voidFix, { includeGps: true })).toEqual({});
  });

  it('gives an empty object for no EXIF, garbled EXIF and bytes that are no image', async () => {
    expect(await readTechnicalMetadata(await makeJpeg(), { includeGps: true })).toEqual({});
    expect(await readTechnicalMetadata(await makeImage('gif'), { includeGps: true })).toEqual({});
    expect(await readTechnicalMetadata(Buffer.from('not an image'), { includeGps: true })).toEqual({});
    expect(await readTechnicalMetadata(Buffer.alloc(0), { includeGps: true })).toEqual({});
    // Scribble over the EXIF segment's IFD entries but leave the JPEG decodable.
    const original = await photo(CAMERA);
    const app1 = original.indexOf(Buffer.from('Exif\0\0'));
    expect(app1).toBeGreaterThan(0);
    const garbled = Buffer.from(original);
    for (let i = app1 + 6; i < app1 + 200; i++) garbled[i] = (i * 151) % 256;
    await expect(readTechnicalMetadata(garbled, { includeGps: true })).resolves.toEqual(expect.any(Object));
    const truncatedHeader = Buffer.from(original);
    truncatedHeader.fill(0xff, app1 + 6, app1 + 14);
    expect(await readTechnicalMetadata(truncatedHeader, { includeGps: true })).toEqual({});
  });

  it('drops values of the wrong type or out of range', () => {
    // As a careless writer or a broken file gives them; the types promise more than EXIF keeps.
    const exif = {
      bigEndian: false,
      Image: { Make: Buffer.from('Nikon\0\0'), Model: '  ', FNumber: Number.NaN },
      Photo: {
        ISOSpeedRatings: [200, 200],
        ExposureTime: -1,
        FocalLength: Number.POSITIVE_INFINITY,
        DateTimeOriginal: new Date(Number.NaN),
        LensModel: 'x'.repeat(500),
      },
      GPSInfo: {
        GPSLatitude: [95, 0, 0],
        GPSLatitudeRef: 'N',
        GPSLongitude: [10, 0, 0],
        GPSLongitudeRef: 'W',
      },
    } as unknown as Parameters<typeof fromExif>[0];
    const odd = fromExif(exif, { includeGps: true });
    expect(odd).toEqual({ cameraMake: 'Nikon', iso: 200 });
  });
});
