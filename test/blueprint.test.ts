import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parseDocument } from 'yaml';
import {
  AUTHENTIK_WEBHOOK_BODY_MAPPING,
  AUTHENTIK_WEBHOOK_HEADER_MAPPING,
} from '../src/events/analyzeAuthentikWebhook';

const blueprintPath = join(__dirname, '..', 'authentik', 'backstage-catalog.blueprint.yaml');

interface Entry {
  model: string;
  id?: string;
  identifiers: Record<string, unknown>;
  attrs: Record<string, unknown>;
}

interface Blueprint {
  version: number;
  context?: Record<string, unknown>;
  entries: Entry[];
}

/** A value written with one of authentik's YAML tags (`!KeyOf x`, `!Env [A, b]`, …), resolved at apply time. */
class AuthentikTag {
  constructor(
    readonly tag: string,
    readonly value: unknown,
  ) {}
}

// Every tag authentik's blueprint loader knows, in its scalar and its sequence form.
const AUTHENTIK_TAGS = [
  'KeyOf', 'Env', 'Find', 'FindObject', 'Context', 'Format', 'If', 'Condition',
  'Enumerate', 'Index', 'Value', 'AtIndex', 'ParseJSON', 'File',
];

function blueprint(): Blueprint {
  const doc = parseDocument(readFileSync(blueprintPath, 'utf8'), {
    customTags: AUTHENTIK_TAGS.flatMap(tag => {
      const resolve = (value: unknown) => new AuthentikTag(tag, value);
      return [
        { tag: `!${tag}`, resolve },
        { tag: `!${tag}`, resolve, collection: 'seq' as const },
      ];
    }),
  });
  if (doc.errors.length > 0) throw new Error(doc.errors.map(String).join('\n'));
  // toJS() would turn tag instances into plain objects; keep them.
  return doc.toJS({ mapAsMap: false }) as Blueprint;
}

function entries(): Entry[] {
  return blueprint().entries;
}

function expression(name: string): string {
  const entry = entries().find(e => e.identifiers.name === name);
  return String(entry?.attrs.expression);
}

/** authentik runs a property mapping as the body of a function: check that it compiles so. */
function compilesAsPython(source: string): void {
  const wrapped = `def mapping(notification, user, request):\n${source
    .split('\n')
    .map(line => `    ${line}`)
    .join('\n')}\n`;
  execFileSync('python3', ['-c', 'import sys; compile(sys.stdin.read(), "mapping", "exec")'], { input: wrapped, stdio: 'pipe' });
}

describe('the authentik blueprint', () => {
  it('carries exactly the body and header mappings the module documents and parses', () => {
    expect(expression('backstage-catalog-webhook-body')).toBe(AUTHENTIK_WEBHOOK_BODY_MAPPING);
    expect(expression('backstage-catalog-webhook-headers')).toBe(AUTHENTIK_WEBHOOK_HEADER_MAPPING);
  });

  it('has mappings that are valid Python as authentik runs them', () => {
    compilesAsPython(AUTHENTIK_WEBHOOK_BODY_MAPPING);
    compilesAsPython(AUTHENTIK_WEBHOOK_HEADER_MAPPING);
    expect(() => compilesAsPython('return {')).toThrow();
  });

  it('creates the account, token, role, destination group, policies, rule and transport', () => {
    const all = entries();
    const byModel = (model: string) => all.filter(e => e.model === model);
    expect(byModel('authentik_rbac.role')[0].attrs.permissions).toEqual([
      'authentik_core.view_user',
      'authentik_core.view_group',
      'authentik_events.view_event',
    ]);
    expect(byModel('authentik_core.token')[0].attrs).toMatchObject({ intent: 'api', expiring: false });
    expect(byModel('authentik_core.group')[0].attrs.users).toEqual([new AuthentikTag('KeyOf', 'backstage-account')]);
    const policies = byModel('authentik_policies_event_matcher.eventmatcherpolicy').map(p => p.attrs);
    for (const model of ['authentik_core.user', 'authentik_core.group']) {
      for (const action of ['model_created', 'model_updated', 'model_deleted']) {
        expect(policies).toContainEqual(expect.objectContaining({ model, action }));
      }
    }
    expect(policies.every(p => p.app === undefined)).toBe(true);
    expect(byModel('authentik_policies.policybinding')).toHaveLength(6);
    expect(byModel('authentik_events.notificationtransport')[0].attrs).toMatchObject({
      mode: 'webhook',
      send_once: true,
    });
    expect(JSON.stringify(byModel('authentik_events.notificationtransport')[0].attrs.webhook_url)).toContain(
      '/api/events/http/authentik',
    );
  });
});

// --- Against authentik's own blueprint schemas, one per supported release ---------------

type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
};
type BlueprintSchema = JsonSchema & { $defs: Record<string, JsonSchema> };

const schemaDir = join(__dirname, 'fixtures', 'authentik-blueprint-schemas');

function versionKey(release: string): number[] {
  return release.split(/[.-]/).map(part => (/^\d+$/.test(part) ? Number(part) : -1));
}

function atLeast(release: string, minimum: string): boolean {
  const [a, b] = [versionKey(release), versionKey(minimum)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

const releases = readdirSync(schemaDir)
  .map(file => /^schema-(.+)\.json\.gz$/.exec(file)?.[1])
  .filter((release): release is string => release !== undefined)
  .sort((a, b) => (atLeast(a, b) ? (atLeast(b, a) ? 0 : 1) : -1));

function loadSchema(release: string): BlueprintSchema {
  return JSON.parse(gunzipSync(readFileSync(join(schemaDir, `schema-${release}.json.gz`))).toString('utf8'));
}

/** The field of a notification rule naming the group its notifications go to. */
function destinationGroupField(release: string): string {
  return atLeast(release, '2025.8.0') ? 'destination_group' : 'group';
}

/**
 * Keys renamed between releases: a blueprint sets both names so that it works everywhere,
 * and each release silently ignores the name it does not know. Nothing else may be unknown.
 */
const RENAMED_KEYS: Record<string, string[][]> = {
  'authentik_events.notificationrule': [['group', 'destination_group']],
};

function resolveRef(root: BlueprintSchema, schema: JsonSchema | undefined): JsonSchema {
  if (!schema?.$ref) return schema ?? {};
  return root.$defs[schema.$ref.replace('#/$defs/', '')] ?? {};
}

/** A value of the property's declared type: what a tag stands for once the importer resolves it. */
function sample(root: BlueprintSchema, property: JsonSchema | undefined): unknown {
  const schema = resolveRef(root, property);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum.find(value => value !== null);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  switch (types.find(type => type !== 'null')) {
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [sample(root, schema.items)];
    case 'object':
      return {};
    default:
      if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
      if (schema.format === 'email') return 'someone@example.com';
      if (schema.format === 'date-time') return '2025-01-01T00:00:00Z';
      return 'resolved-at-apply-time';
  }
}

function withTagsResolved(root: BlueprintSchema, value: unknown, schema: JsonSchema | undefined): unknown {
  if (value instanceof AuthentikTag) return sample(root, schema);
  const resolved = resolveRef(root, schema);
  if (Array.isArray(value)) return value.map(item => withTagsResolved(root, item, resolved.items));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, withTagsResolved(root, item, resolved.properties?.[key])]),
    );
  }
  return value;
}

function unknownKeys(release: string, schema: BlueprintSchema, entry: Entry): string[] {
  const properties = schema.$defs[`model_${entry.model}`]?.properties;
  if (!properties) return [`model ${entry.model} does not exist in ${release}`];
  const renamed = RENAMED_KEYS[entry.model] ?? [];
  return Object.keys({ ...entry.identifiers, ...entry.attrs })
    .filter(key => !(key in properties))
    .filter(key => !renamed.some(names => names.includes(key) && names.some(name => name in properties)))
    .map(key => `${entry.model}: "${key}" is not a field in ${release}`);
}

describe("the authentik blueprint against authentik's own blueprint schemas", () => {
  const lines: string[] = [];
  afterAll(() => console.log(`Blueprint against authentik's schemas:\n${lines.join('\n')}`));

  it('covers every release from 2025.4 on', () => {
    expect(releases[0]).toBe('2025.4.0');
    expect(releases).toEqual(expect.arrayContaining(['2025.6.0', '2025.8.0', '2025.12.0', '2026.2.0']));
  });

  it.each(releases)('applies and wires the webhook on authentik %s', release => {
    const schema = loadSchema(release);
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(schema);

    const parsed = blueprint();
    const resolved = {
      ...parsed,
      context: withTagsResolved(schema, parsed.context, {}),
      entries: parsed.entries.map(entry => {
        const model = schema.$defs[`model_${entry.model}`];
        return {
          ...entry,
          identifiers: withTagsResolved(schema, entry.identifiers, model),
          attrs: withTagsResolved(schema, entry.attrs, model),
        };
      }),
    };
    const valid = validate(resolved);
    expect(valid ? [] : ajv.errorsText(validate.errors, { separator: '\n' }).split('\n')).toEqual([]);

    expect(parsed.entries.flatMap(entry => unknownKeys(release, schema, entry))).toEqual([]);

    const field = destinationGroupField(release);
    expect(schema.$defs['model_authentik_events.notificationrule'].properties).toHaveProperty(field);
    const group = parsed.entries.find(entry => entry.model === 'authentik_core.group');
    const rules = parsed.entries.filter(entry => entry.model === 'authentik_events.notificationrule');
    expect(rules).toHaveLength(1);
    expect(rules[0].attrs[field]).toEqual(new AuthentikTag('KeyOf', group?.id));

    lines.push(
      `  authentik ${release.padEnd(13)} schema-valid, ${parsed.entries.length} entries, every key known, ` +
        `rule's destination group under "${field}"`,
    );
  });
});
