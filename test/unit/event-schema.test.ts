import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, eventsJsonSchema, registryJsonSchema } from '../../lambdas/core/events.js';

const text = `${JSON.stringify(eventsJsonSchema(), null, 2)}\n`;

describe('the events’ JSON Schema', () => {
  it('is the one committed as docs/events.schema.json', async () => {
    await expect(text).toMatchFileSnapshot(
      '../../docs/events.schema.json',
      'docs/events.schema.json is stale; regenerate it: npx vitest run --project unit test/unit/event-schema.test.ts -u',
    );
  });

  it('compiles as JSON Schema 2020-12 and tells each type apart', () => {
    const validate = new Ajv2020({ strict: true, formats: { 'date-time': true } }).compile(JSON.parse(text));
    const deleted = {
      version: 1,
      id: 'a:deleted:b',
      type: 'image.deleted',
      occurredAt: '2026-12-06T10:00:00.000Z',
      owner: 'alice',
      uploadId: 'b',
      imageId: 'a',
    };
    expect(validate(deleted)).toBe(true);
    expect(validate({ ...deleted, type: 'image.ready' })).toBe(false);
    expect(validate({ ...deleted, version: 2 })).toBe(false);
    expect(validate({ ...deleted, bytes: 'AAAA' })).toBe(false);
  });

  it('has a draft-4 schema for each type, as the EventBridge registry takes', () => {
    for (const type of EVENT_TYPES) {
      const schema = registryJsonSchema(type);
      expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(JSON.stringify(schema)).toContain(`"${type}"`);
    }
  });
});
