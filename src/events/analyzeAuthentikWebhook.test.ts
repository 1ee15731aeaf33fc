import fc from 'fast-check';
import {
  analyzeAuthentikWebhook,
  AUTHENTIK_WEBHOOK_BODY_MAPPING,
  AUTHENTIK_WEBHOOK_HEADER_MAPPING,
  AuthentikChangeHint,
  AuthentikModelAction,
  AuthentikWebhookAnalysis,
} from './analyzeAuthentikWebhook';
import { parseLeadingPythonDict, PythonValue } from './pythonLiteral';

// ---------------------------------------------------------------------------------------------
// Reference serializer: Python's repr() for the JSON-like values authentik puts in a context.
// ---------------------------------------------------------------------------------------------

/** Characters str.isprintable() rejects (other than space), as far as the JS Unicode tables go. */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/**
 * Python's `repr(str)`: single quotes unless the string holds `'` and no `"`; backslash, the
 * chosen quote, \n \r \t escaped; other non-printables as \xNN, \uNNNN or \UNNNNNNNN.
 */
function pyStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '\\' || ch === q) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      out += cp < 0x100 ? `\\x${hex(cp, 2)}` : cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
    } else out += ch;
  }
  return out + q;
}

/** Python's repr() of a JSON-like value (dict keys in insertion order). */
function pyRepr(value: PythonValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return pyStr(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${pyStr(k)}: ${pyRepr(v)}`)
    .join(', ')}}`;
}

describe('reference serializer', () => {
  it.each([
    ['Jane Doe', "'Jane Doe'"],
    ["O'Brien", `"O'Brien"`],
    [`it's "x"`, `'it\\'s "x"'`],
    ['a\\b', "'a\\\\b'"],
    ['a\nb\x00\x7f', "'a\\nb\\x00\\x7f'"],
    ['é\u2028😀', "'é\\u2028😀'"],
  ])('matches Python for %j', (input, expected) => {
    expect(pyStr(input)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const USER_PK = 42;
const GROUP_UUID = 'C0FFEE00-C0FF-EE00-C0FF-EE00C0FFEE00';
const GROUP_HEX = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const EVENT_PK = '0F1E2D3C4B5A69788796A5B4C3D2E1F0';
const ACTIONS: AuthentikModelAction[] = ['model_created', 'model_updated', 'model_deleted'];

function mappingBody(overrides: Record<string, unknown> = {}, model: Record<string, unknown> | null = {}): unknown {
  return {
    version: 1,
    event_pk: EVENT_PK,
    action: 'model_updated',
    created: '2026-05-01T12:34:56.789123+00:00',
    model:
      model === null
        ? null
        : { pk: USER_PK, app: 'authentik_core', name: 'Jane Doe', model_name: 'user', ...model },
    ...overrides,
  };
}

function defaultBody(body: unknown): unknown {
  return {
    body,
    severity: 'notice',
    user_email: 'recipient@example.com',
    user_username: 'recipient',
    event_user_email: 'admin@example.com',
    event_user_username: 'akadmin',
  };
}

function contextText(action: string, model: Record<string, PythonValue> | null, extra: Record<string, PythonValue> = {}): string {
  const context: Record<string, PythonValue> = {};
  if (model !== null) context['model'] = model;
  context['http_request'] = {
    args: { include_groups: ['true'] },
    path: '/api/v3/core/users/42/',
    method: 'PATCH',
    request_id: 'abc',
    user_agent: 'Mozilla/5.0',
  };
  return `${action}: ${pyRepr({ ...context, ...extra })}`;
}

function userModel(pk: PythonValue = USER_PK, name: PythonValue = 'Jane Doe'): Record<string, PythonValue> {
  return { pk, app: 'authentik_core', name, model_name: 'user' };
}

function groupModel(pk: PythonValue = GROUP_HEX, name: PythonValue = 'Ops'): Record<string, PythonValue> {
  return { pk, app: 'authentik_core', name, model_name: 'group' };
}

/** Bodies produced by Python 3 itself (`json.dumps({"body": f"{action}: {context}", …})`). */
const PYTHON_DEFAULT_BODIES = [
  `{"body": "model_updated: {'model': {'pk': 42, 'app': 'authentik_core', 'name': \\"Jane O'Doe\\", 'model_name': 'user'}, 'http_request': {'args': {'include_groups': ['true']}, 'path': '/api/v3/core/users/42/', 'method': 'PATCH', 'request_id': 'a1b2', 'user_agent': 'Mozilla/5.0 \\"x\\"'}}", "severity": "notice", "user_email": "r@example.com", "user_username": "r", "event_user_email": "a@example.com", "event_user_username": "akadmin"}`,
  `{"body": "model_created: {'model': {'pk': 'c0ffee00c0ffee00c0ffee00c0ffee00', 'app': 'authentik_core', 'name': 'Ops \\\\\\\\ Team \\"Blue\\" it\\\\'s\\\\n\\\\tcaf\\u00e9 \\\\x85 \\\\u2028 \\ud83d\\ude00', 'model_name': 'group'}, 'http_request': {'args': {}, 'path': '/api/v3/core/groups/', 'method': 'POST', 'request_id': None, 'user_agent': ''}}", "severity": "notice", "user_email": "r@example.com", "user_username": "r", "event_user_email": "a@example.com", "event_user_username": "akadmin"}`,
  `{"body": "model_deleted: {'model': {'pk': 7, 'app': 'authentik_core', 'name': None, 'model_name': 'user'}, 'flag': True, 'other': False, 'ratio': 1.5e-07, 'big': 1180591620717411303424, 'neg': -3, 'list': [1, (2, 3), []]}", "severity": "notice", "user_email": "r@example.com", "user_username": "r", "event_user_email": "a@example.com", "event_user_username": "akadmin"}`,
];

function expectOk(analysis: AuthentikWebhookAnalysis): AuthentikChangeHint {
  if (analysis.result !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(analysis)}`);
  return analysis.hint;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('analyzeAuthentikWebhook — mapping form', () => {
  const cases: Array<[string, AuthentikModelAction, Record<string, unknown>, AuthentikChangeHint]> = [];
  for (const action of ACTIONS) {
    cases.push([
      `user ${action}`,
      action,
      {},
      {
        model: 'user',
        pk: '42',
        action,
        eventId: EVENT_PK.toLowerCase(),
        created: '2026-05-01T12:34:56.789Z',
        form: 'mapping',
        name: 'Jane Doe',
      },
    ]);
    cases.push([
      `group ${action}`,
      action,
      { pk: GROUP_HEX, model_name: 'group', name: 'Ops' },
      {
        model: 'group',
        pk: GROUP_HEX,
        action,
        eventId: EVENT_PK.toLowerCase(),
        created: '2026-05-01T12:34:56.789Z',
        form: 'mapping',
        name: 'Ops',
      },
    ]);
  }

  it.each(cases)('%s', (_label, action, model, expected) => {
    expect(analyzeAuthentikWebhook(mappingBody({ action }, model))).toEqual({ result: 'ok', hint: expected });
  });

  it.each([
    ['a user pk given as a digit string', { pk: '0042' }, '42'],
    ['a dashed upper-case group uuid', { pk: GROUP_UUID, model_name: 'group' }, GROUP_HEX],
    ['a null name', { name: null }, '42'],
    ['a missing name', { name: undefined }, '42'],
  ])('normalises %s', (_label, model, pk) => {
    expect(expectOk(analyzeAuthentikWebhook(mappingBody({}, model))).pk).toBe(pk);
  });

  it('accepts a dashed event pk, no event pk and no created', () => {
    const dashed = expectOk(analyzeAuthentikWebhook(mappingBody({ event_pk: GROUP_UUID })));
    expect(dashed.eventId).toBe(GROUP_HEX);
    const bare = expectOk(analyzeAuthentikWebhook(mappingBody({ event_pk: undefined, created: undefined })));
    expect(bare).toEqual({ model: 'user', pk: '42', action: 'model_updated', form: 'mapping', name: 'Jane Doe' });
    expect('eventId' in bare).toBe(false);
  });

  it('normalises created to UTC', () => {
    const hint = expectOk(analyzeAuthentikWebhook(mappingBody({ created: '2026-05-01T14:34:56+02:00' })));
    expect(hint.created).toBe('2026-05-01T12:34:56.000Z');
  });

  it('tolerates unknown keys', () => {
    const hint = expectOk(analyzeAuthentikWebhook(mappingBody({ extra: { a: 1 } }, { extra: [1] })));
    expect(hint.pk).toBe('42');
  });

  it.each<[string, unknown, RegExp]>([
    ['test notification', { version: 1, test: true, body: 'Test Notification from transport backstage' }, /test notification/],
    ['login (no model)', mappingBody({ action: 'login' }, null), /action login is not a model action/],
    ['login without a model key', mappingBody({ action: 'login', model: undefined }), /action login is not a model action/],
    ['model action without a model', mappingBody({}, null), /without a model/],
    ['other model', mappingBody({}, { model_name: 'token', pk: 3 }), /model authentik_core\.token is not synced/],
    ['other app', mappingBody({}, { app: 'authentik_providers_oauth2', model_name: 'user' }), /model authentik_providers_oauth2\.user is not synced/],
    ['application model', mappingBody({ action: 'model_created' }, { app: 'authentik_core', model_name: 'application', pk: 'x' }), /authentik_core\.application is not synced/],
    ['custom action', mappingBody({ action: 'custom_thing' }), /custom_thing is not a model action/],
  ])('ignores %s', (_label, body, reason) => {
    const analysis = analyzeAuthentikWebhook(body);
    expect(analysis.result).toBe('ignored');
    if (analysis.result === 'ignored') expect(analysis.reason).toMatch(reason);
  });

  it.each<[string, unknown, RegExp]>([
    ['wrong version', mappingBody({ version: 2 }), /^invalid mapping body: version: expected 1/],
    ['string version', mappingBody({ version: '1' }), /version: expected 1/],
    ['numeric action', mappingBody({ action: 5 }), /action: Expected string/],
    ['missing action', mappingBody({ action: undefined }), /action: Required/],
    ['non-string event_pk', mappingBody({ event_pk: 12 }), /event_pk: Expected string/],
    ['malformed event_pk', mappingBody({ event_pk: 'not-a-uuid' }), /event_pk: expected a UUID/],
    ['malformed created', mappingBody({ created: 'yesterday' }), /created: expected an ISO-8601/],
    ['created without a zone', mappingBody({ created: '2026-05-01T12:34:56' }), /created: expected an ISO-8601/],
    ['model not an object', mappingBody({ model: 'user' }), /model: Expected object/],
    ['model.pk boolean', mappingBody({}, { pk: true }), /model\.pk: expected an integer or a non-empty string/],
    ['model.pk float', mappingBody({}, { pk: 4.2 }), /model\.pk: Expected integer/],
    ['model.pk empty', mappingBody({}, { pk: '' }), /model\.pk/],
    ['model.app missing', mappingBody({}, { app: undefined }), /model\.app: Required/],
    ['model.model_name number', mappingBody({}, { model_name: 1 }), /model\.model_name: Expected string/],
    ['test not boolean', { version: 1, test: 'yes' }, /test: Expected boolean/],
    ['user pk not digits', mappingBody({}, { pk: 'abc' }), /model\.pk: expected a non-negative integer for user/],
    ['negative user pk', mappingBody({}, { pk: -1 }), /model\.pk: expected a non-negative integer/],
    ['unsafe user pk', mappingBody({}, { pk: 2 ** 60 }), /model\.pk/],
    ['group pk int', mappingBody({}, { pk: 5, model_name: 'group' }), /model\.pk: expected a UUID for group/],
    ['group pk short hex', mappingBody({}, { pk: 'c0ffee', model_name: 'group' }), /model\.pk: expected a UUID/],
  ])('rejects %s', (_label, body, reason) => {
    const analysis = analyzeAuthentikWebhook(body);
    expect(analysis.result).toBe('invalid');
    if (analysis.result === 'invalid') expect(analysis.reason).toMatch(reason);
  });
});

describe('analyzeAuthentikWebhook — default form', () => {
  const cases: Array<[string, string, AuthentikChangeHint]> = [];
  for (const action of ACTIONS) {
    cases.push([
      `user ${action}`,
      contextText(action, userModel()),
      { model: 'user', pk: '42', action, form: 'default', name: 'Jane Doe' },
    ]);
    cases.push([
      `group ${action}`,
      contextText(action, groupModel()),
      { model: 'group', pk: GROUP_HEX, action, form: 'default', name: 'Ops' },
    ]);
  }

  it.each(cases)('%s', (_label, text, expected) => {
    expect(analyzeAuthentikWebhook(defaultBody(text))).toEqual({ result: 'ok', hint: expected });
  });

  it.each([
    ['a user named with an apostrophe', 0, { model: 'user', pk: '42', action: 'model_updated' }, "Jane O'Doe"],
    [
      'a group named with quotes, backslash, escapes and unicode',
      1,
      { model: 'group', pk: GROUP_HEX, action: 'model_created' },
      `Ops \\ Team "Blue" it's\n\tcafé \x85 \u2028 😀`,
    ],
    ['a nameless user among Python-only values', 2, { model: 'user', pk: '7', action: 'model_deleted' }, null],
  ])('reads a body Python produced: %s', (_label, index, expected, name) => {
    const body: unknown = JSON.parse(PYTHON_DEFAULT_BODIES[index] ?? '');
    expect(analyzeAuthentikWebhook(body)).toEqual({
      result: 'ok',
      hint: { ...expected, form: 'default', ...(name ? { name } : {}) },
    });
    const text = typeof body === 'object' && body !== null && 'body' in body ? body.body : undefined;
    if (typeof text !== 'string') throw new Error('fixture has no body');
    const model = parseLeadingPythonDict(text.slice(text.indexOf(': ') + 2))['model'];
    expect(model).toMatchObject({ name });
  });

  it.each<[string, string, string]>([
    ['keys in another order', `model_updated: {'http_request': {}, 'model': {'model_name': 'user', 'name': 'J', 'app': 'authentik_core', 'pk': 42}}`, '42'],
    ['a dashed group UUID call', `model_updated: {'model': {'pk': UUID('${GROUP_UUID.toLowerCase()}'), 'app': 'authentik_core', 'name': 'Ops', 'model_name': 'group'}}`, GROUP_HEX],
    ['a user pk as a string', contextText('model_updated', userModel('42')), '42'],
    ['trailing text after the dict', `${contextText('model_updated', userModel())} (and more)`, '42'],
    ['a datetime in the context', `model_updated: {'when': datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), 'model': {'pk': 42, 'app': 'authentik_core', 'name': None, 'model_name': 'user'}}`, '42'],
    ['a nested http_request with None and lists', contextText('model_updated', userModel(), { http_request: { args: { a: ['1', '2'] }, user_agent: null } }), '42'],
  ])('is robust to %s', (_label, text, pk) => {
    expect(expectOk(analyzeAuthentikWebhook(defaultBody(text))).pk).toBe(pk);
  });

  it.each<[string, string, RegExp]>([
    ['authentik test notification', 'Test Notification from transport backstage', /not "<action>: {…}"/],
    ['test notification with a colon in the transport name', 'Test Notification from transport backstage: prod', /not "<action>: {…}"/],
    ['event message summary', 'Blueprint failed: something went wrong', /not "<action>: {…}"/],
    ['action followed by text', 'login: jane logged in', /not "<action>: {…}"/],
    ['empty body', '', /not "<action>: {…}"/],
    ['login', contextText('login', null, { auth_method: 'password' }), /action login is not a model action/],
    ['other model', contextText('model_updated', { pk: 3, app: 'authentik_core', name: 'tok', model_name: 'token' }), /model authentik_core\.token is not synced/],
    ['other app', contextText('model_created', { pk: 3, app: 'authentik_flows', name: 'f', model_name: 'flow' }), /model authentik_flows\.flow is not synced/],
    ['model action without model', contextText('model_updated', null), /without a model/],
  ])('ignores %s', (_label, text, reason) => {
    const analysis = analyzeAuthentikWebhook(defaultBody(text));
    expect(analysis.result).toBe('ignored');
    if (analysis.result === 'ignored') expect(analysis.reason).toMatch(reason);
  });

  it.each<[string, unknown, RegExp]>([
    ['a non-string body', defaultBody(42), /body: Expected string/],
    ['a null body', defaultBody(null), /body: Expected string/],
    ['an unterminated dict', defaultBody("model_updated: {'model': {'pk': 42"), /body: malformed event context: unexpected end of input at offset 34/],
    ['an unterminated string', defaultBody("model_updated: {'model': 'x}"), /malformed event context: unterminated string at offset 25/],
    ['a malformed dict with a non-model action', defaultBody('login: {oops'), /malformed event context/],
    ['a model that is not a dict', defaultBody("model_updated: {'model': 'user'}"), /model: Expected object/],
    ['a model without app', defaultBody("model_updated: {'model': {'pk': 1, 'model_name': 'user'}}"), /model\.app: Required/],
    ['a bad user pk', defaultBody(contextText('model_updated', userModel('4x2'))), /model\.pk: expected a non-negative integer for user/],
    ['a bad group pk', defaultBody(contextText('model_updated', groupModel(12))), /model\.pk: expected a UUID for group/],
    ['a None pk', defaultBody(contextText('model_updated', userModel(null))), /model\.pk/],
  ])('rejects %s', (_label, body, reason) => {
    const analysis = analyzeAuthentikWebhook(body);
    expect(analysis.result).toBe('invalid');
    if (analysis.result === 'invalid') expect(analysis.reason).toMatch(reason);
  });
});

describe('analyzeAuthentikWebhook — neither form', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'model_updated: {}'],
    ['a number', 42],
    ['an array', [{ body: 'x' }]],
    ['an empty object', {}],
    ['an object with other keys', { event: 'model_updated' }],
  ])('rejects %s', (_label, body) => {
    expect(analyzeAuthentikWebhook(body).result).toBe('invalid');
  });
});

describe('analyzeAuthentikWebhook — properties', () => {
  const nameArbitrary = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map(c => String.fromCharCode(c)) }),
    fc.string({ unit: fc.constantFrom("'", '"', '\\', '\n', '\r', '\t', '\x00', '\x7f', 'é', '\u2028', '😀', ' ', 'a', ':', '{', '}') }),
  );
  const pkArbitrary = fc.oneof(
    fc.record({ model: fc.constant('user' as const), pk: fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 10n ** 20n })) }),
    fc.record({ model: fc.constant('group' as const), pk: fc.uuid().map(u => u.replace(/-/g, '')) }),
  );

  it('round-trips any pk and name through the default body', () => {
    fc.assert(
      fc.property(pkArbitrary, nameArbitrary, fc.constantFrom(...ACTIONS), (target, name, action) => {
        const model = { pk: target.pk, app: 'authentik_core', name, model_name: target.model };
        const text = contextText(action, model);
        const hint = expectOk(analyzeAuthentikWebhook(defaultBody(text)));
        expect(hint).toEqual({ model: target.model, pk: String(target.pk), action, form: 'default', ...(name ? { name } : {}) });
        const parsed = parseLeadingPythonDict(text.slice(action.length + 2))['model'];
        expect(parsed).toEqual({ ...model, pk: typeof target.pk === 'bigint' && target.pk <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(target.pk) : target.pk });
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips JSON-like contexts through the parser', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 5 })), context => {
        const text = `model_updated: ${pyRepr(toPython(context))}`;
        expect(parseLeadingPythonDict(text.slice('model_updated: '.length))).toEqual(toPython(context));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), value => {
        expect(['ok', 'ignored', 'invalid']).toContain(analyzeAuthentikWebhook(value).result);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary strings inside body', () => {
    const alphabet = fc.constantFrom(
      ...`{}[](),:'"\\ \n0123456789.-_ex<>=`.split(''),
      'model_updated: ',
      "'model': ",
      "'pk': ",
      'None',
      'UUID(',
      'authentik_core',
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 80 }), fc.string().map(s => `model_updated: {${s}`)),
        text => {
          expect(['ok', 'ignored', 'invalid']).toContain(analyzeAuthentikWebhook(defaultBody(text)).result);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary mapping-shaped bodies', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            version: fc.oneof(fc.constant(1), fc.jsonValue()),
            test: fc.oneof(fc.boolean(), fc.jsonValue()),
            action: fc.oneof(fc.constantFrom(...ACTIONS, 'login'), fc.jsonValue()),
            event_pk: fc.oneof(fc.uuid(), fc.jsonValue()),
            created: fc.oneof(fc.date({ noInvalidDate: true }).map(d => d.toISOString()), fc.jsonValue()),
            model: fc.oneof(
              fc.record({ pk: fc.jsonValue(), app: fc.jsonValue(), model_name: fc.constantFrom('user', 'group') }),
              fc.jsonValue(),
            ),
          },
          { requiredKeys: ['version'] },
        ),
        body => {
          expect(['ok', 'ignored', 'invalid']).toContain(analyzeAuthentikWebhook(body).result);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('mapping expressions', () => {
  it('body mapping returns the documented shape and handles the test notification', () => {
    expect(AUTHENTIK_WEBHOOK_BODY_MAPPING).toContain('if event is None:');
    expect(AUTHENTIK_WEBHOOK_BODY_MAPPING).toContain('return {"version": 1, "test": True, "body": notification.body}');
    for (const part of ['event.pk.hex', 'event.action', 'event.created.isoformat()', 'context.get("model")']) {
      expect(AUTHENTIK_WEBHOOK_BODY_MAPPING).toContain(part);
    }
  });

  it('header mapping reads the secret from the environment', () => {
    expect(AUTHENTIK_WEBHOOK_HEADER_MAPPING).toContain('import os');
    expect(AUTHENTIK_WEBHOOK_HEADER_MAPPING).toContain('os.environ.get("BACKSTAGE_WEBHOOK_SECRET", "")');
    expect(AUTHENTIK_WEBHOOK_HEADER_MAPPING).toMatch(/return \{"Authorization": f"Bearer \{secret\}"\}/);
  });
});

/** fast-check JSON values → the PythonValue the parser yields for their repr (ints may be bigints). */
function toPython(value: unknown): PythonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return 0;
    // Python prints unsafe integral floats from JS as digit strings: they read back as ints.
    if (Number.isInteger(value) && !Number.isSafeInteger(value) && !/e/.test(String(value))) return BigInt(value);
    return value;
  }
  if (Array.isArray(value)) return value.map(toPython);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPython(v)]));
  }
  return null;
}
