import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../lambdas/core/settings.js';
import { DEFAULT_VARIANTS } from '../../lambdas/core/variants.js';

/**
 * docs/configuration.md's tables of props and settings are generated from the TSDoc of
 * `ImagePipelineProps` and the settings schema, and the settings' defaults from `parseSettings({})`,
 * so they are documented once. This test fails when the page and the code disagree;
 * `APERTURE_WRITE_DOCS=1 npx vitest run test/unit/docs-configuration.test.ts` rewrites the page's
 * generated part.
 */

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const PAGE = 'docs/configuration.md';
const BEGIN = '<!-- generated: props and settings (test/unit/docs-configuration.test.ts) -->';
const END = '<!-- end generated -->';

interface Documented {
  readonly name: string;
  readonly type?: string;
  readonly doc: string;
  /** As Markdown: a literal in code, a described default (`@default - words`) as prose. */
  readonly defaultValue?: string;
  readonly required?: boolean;
}

function parse(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(root(path), 'utf8'), ts.ScriptTarget.Latest, true);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A member's TSDoc: its text and its `@default`, each on one line. */
function tsdoc(node: ts.Node): { doc: string; defaultValue?: string } {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const doc = oneLine(docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join(' '));
  const tag = ts.getJSDocTags(node).find((t) => t.tagName.text === 'default');
  const raw = tag ? oneLine(ts.getTextOfJSDocComment(tag.comment) ?? '') : undefined;
  if (!raw) return { doc };
  // `@default - words` is CDK's way of saying the default is described, not a literal value.
  return { doc, defaultValue: raw.startsWith('- ') ? raw.slice(2) : literal(raw) };
}

/** `PriceClass.X (why)` becomes `` `PriceClass.X` (why) ``. */
function literal(text: string): string {
  const [, value = text, rest = ''] = /^(\S+)(.*)$/.exec(text) ?? [];
  return `\`${value}\`${rest}`;
}

function interfaceMembers(file: ts.SourceFile, name: string): Documented[] {
  const declaration = file.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name,
  );
  if (!declaration) throw new Error(`${file.fileName} has no interface ${name}`);
  return declaration.members.filter(ts.isPropertySignature).map((member) => ({
    name: member.name.getText(file),
    type: member.type?.getText(file),
    required: member.questionToken === undefined,
    ...tsdoc(member),
  }));
}

/** The documented fields of a `z.strictObject({...})` schema declared as `const {schemaName} = …`. */
function settingsFields(file: ts.SourceFile, schemaName: string): Documented[] {
  let literal: ts.ObjectLiteralExpression | undefined;
  file.forEachChild(function visit(node) {
    if (
      ts.isVariableDeclaration(node) &&
      node.name.getText(file) === schemaName &&
      node.initializer &&
      ts.isCallExpression(node.initializer)
    ) {
      const [argument] = node.initializer.arguments;
      if (argument && ts.isObjectLiteralExpression(argument)) literal = argument;
    }
    node.forEachChild(visit);
  });
  if (!literal) throw new Error(`${file.fileName} has no ${schemaName} object`);
  return literal.properties.filter(ts.isPropertyAssignment).map((property) => ({
    name: property.name.getText(file),
    doc: tsdoc(property).doc,
  }));
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** Settings documented field by field in rows of their own (`enrichment.tags`, …), not as one value. */
const NESTED_SETTINGS = { enrichment: 'enrichmentSettingsSchema' } as const;

function settingDefault(name: string): string {
  if (name in NESTED_SETTINGS) return `the \`${name}.*\` rows below`;
  if (name === 'variants') {
    return DEFAULT_VARIANTS.map(
      (v) =>
        `${v.name} ${v.width}×${v.height} ${v.fit} (${v.formats.map((f) => `${f.format} q${f.quality}`).join(', ')})`,
    ).join('; ');
  }
  return `\`${JSON.stringify((parseSettings() as Record<string, unknown>)[name])}\``;
}

function generated(): string {
  const pipeline = parse('lib/image-pipeline.ts');
  const props = interfaceMembers(pipeline, 'ImagePipelineProps');
  const privateDelivery = interfaceMembers(pipeline, 'PrivateDelivery');
  const settingsFile = parse('lambdas/core/settings.ts');
  const settings = settingsFields(settingsFile, 'settingsSchema');
  const defaults = parseSettings() as unknown as Record<string, Record<string, unknown>>;
  const nestedRows = Object.entries(NESTED_SETTINGS).flatMap(([parent, schema]) =>
    settingsFields(settingsFile, schema).map(
      (s) =>
        `| \`${parent}.${s.name}\` | ${cell(`\`${JSON.stringify(defaults[parent]?.[s.name])}\``)} | ${cell(s.doc || '–')} |`,
    ),
  );
  const propRows = (members: Documented[]) =>
    members.map(
      (m) =>
        `| \`${m.name}\` | \`${cell(m.type ?? '')}\` | ${cell(m.defaultValue ?? (m.required ? 'required' : 'none'))} | ${cell(m.doc || '–')} |`,
    );
  return [
    BEGIN,
    '',
    '### `ImagePipelineProps`',
    '',
    '| prop | type | default | what it is |',
    '| --- | --- | --- | --- |',
    ...propRows(props),
    '',
    '### `PrivateDelivery`',
    '',
    '| field | type | default | what it is |',
    '| --- | --- | --- | --- |',
    ...propRows(privateDelivery),
    '',
    '### `settings`',
    '',
    '| setting | default | what it is |',
    '| --- | --- | --- |',
    ...settings.map((s) => `| \`${s.name}\` | ${cell(settingDefault(s.name))} | ${cell(s.doc || '–')} |`),
    ...nestedRows,
    '',
    END,
  ].join('\n');
}

describe('docs/configuration.md', () => {
  it('carries the props and settings exactly as their TSDoc and defaults say', () => {
    const page = readFileSync(root(PAGE), 'utf8');
    const start = page.indexOf(BEGIN);
    const end = page.indexOf(END);
    expect(start, `${PAGE} lacks the generated block's markers`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const current = page.slice(start, end + END.length);
    const expected = generated();
    if (process.env.APERTURE_WRITE_DOCS && current !== expected) {
      writeFileSync(root(PAGE), page.replace(current, expected));
      return;
    }
    expect(current, 'regenerate with APERTURE_WRITE_DOCS=1').toBe(expected);
  });

  it('reads every setting the schema has, and every prop', () => {
    const documented = settingsFields(parse('lambdas/core/settings.ts'), 'settingsSchema').map((s) => s.name);
    expect(documented.sort()).toEqual(Object.keys(parseSettings()).sort());
    const enrichment = settingsFields(parse('lambdas/core/settings.ts'), 'enrichmentSettingsSchema');
    expect(enrichment.map((s) => s.name).sort()).toEqual(Object.keys(parseSettings().enrichment).sort());
    const props = interfaceMembers(parse('lib/image-pipeline.ts'), 'ImagePipelineProps').map((p) => p.name);
    expect(props).toEqual(
      expect.arrayContaining(['settings', 'jwt', 'privateDelivery', 'onDemandConcurrency']),
    );
  });
});
