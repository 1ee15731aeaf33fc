import fc from 'fast-check';
import {
  parseLeadingPythonDict,
  parsePythonLiteral,
  PythonLiteralError,
  PythonValue,
} from './pythonLiteral';

describe('parsePythonLiteral', () => {
  const values: Array<[string, string, PythonValue]> = [
    ['None', 'None', null],
    ['True', 'True', true],
    ['False', 'False', false],
    ['int', '42', 42],
    ['negative int', '-3', -3],
    ['int with underscores', '1_000', 1000],
    ['big int', '1180591620717411303424', 1180591620717411303424n],
    ['float', '1.5', 1.5],
    ['float exponent', '1.5e-07', 1.5e-7],
    ['float without fraction digits', '2.', 2],
    ['inf', 'inf', Infinity],
    ['-inf', '-inf', -Infinity],
    ['single-quoted', "'Jane Doe'", 'Jane Doe'],
    ['double-quoted with an apostrophe', `"Jane O'Doe"`, "Jane O'Doe"],
    ['escaped apostrophe', `'it\\'s "quoted"'`, `it's "quoted"`],
    ['escaped double quote', `"say \\"hi\\""`, 'say "hi"'],
    ['backslash', `'a\\\\b'`, 'a\\b'],
    ['newline, return, tab', `'a\\nb\\rc\\td'`, 'a\nb\rc\td'],
    ['\\a \\b \\f \\v', `'\\a\\b\\f\\v'`, '\x07\b\f\v'],
    ['\\xNN', `'caf\\xe9'`, 'café'],
    ['control chars', `'\\x00\\x1f\\x7f'`, '\x00\x1f\x7f'],
    ['\\uNNNN', `'\\u2028\\u00e9'`, '\u2028é'],
    ['\\UNNNNNNNN', `'\\U0001f600'`, '😀'],
    ['lone surrogate', `'\\ud800'`, '\ud800'],
    ['octal', `'\\0\\101\\7'`, '\x00A\x07'],
    ['unknown escape kept', `'\\d\\q'`, '\\d\\q'],
    ['literal unicode', `'Zoë 😀 日本'`, 'Zoë 😀 日本'],
    ['line continuation', `'a\\\nb'`, 'ab'],
    ['adjacent strings', `'a' "b" 'c'`, 'abc'],
    ['triple-quoted', `'''it's\n"x"'''`, `it's\n"x"`],
    ['raw string', `r'\\n\\''`, "\\n\\'"],
    ['bytes', `b'\\x00\\xff\\u1234'`, '\x00\xff\\u1234'],
    ['unicode prefix', `u'x'`, 'x'],
    ['empty list', '[]', []],
    ['list with trailing comma', '[1, 2,]', [1, 2]],
    ['empty tuple', '()', []],
    ['1-tuple', '(1,)', [1]],
    ['tuple', "(1, 'a')", [1, 'a']],
    ['parenthesised value', '(1)', 1],
    ['set', '{1, 2}', [1, 2]],
    ['empty dict', '{}', {}],
    ['nested dicts', "{'a': {'b': {'c': [None]}}}", { a: { b: { c: [null] } } }],
    ['non-string keys', "{1: 'a', None: 'b', True: 'c', (1, 2): 'd'}", { 1: 'a', None: 'b', True: 'c', '(1, 2)': 'd' }],
    ['duplicate keys: last wins', "{'a': 1, 'a': 2}", { a: 2 }],
    ['whitespace and newlines', "{\n  'a' :\t[ 1 ,\n 2 ] ,\n}", { a: [1, 2] }],
    ['UUID call', "UUID('c0ffee00-c0ff-ee00-c0ff-ee00c0ffee00')", 'c0ffee00-c0ff-ee00-c0ff-ee00c0ffee00'],
    ['datetime call', 'datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)', null],
    ['call with keyword first', "Foo(key='x', 'y')", 'y'],
    ['call without arguments', 'set()', null],
    ['bare dotted name', 'datetime.timezone.utc', null],
    ['opaque repr', "<QueryDict: {'a': ['>']}>", null],
  ];

  it.each(values)('parses %s', (_label, text, expected) => {
    expect(parsePythonLiteral(text)).toEqual(expected);
  });

  it('parses nan', () => {
    expect(parsePythonLiteral('nan')).toBeNaN();
  });

  it('keeps a "__proto__" key as an ordinary own key', () => {
    const value = parsePythonLiteral("{'__proto__': {'polluted': 1}}");
    expect(Object.keys(value ?? {})).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  const malformed: Array<[string, string, number]> = [
    ['empty input', '', 0],
    ['unterminated string', "'abc", 0],
    ['newline in a single-line string', "'a\nb'", 0],
    ['unterminated dict', "{'a': 1", 7],
    ['missing colon', "{'a': 1, 'b' 2}", 13],
    ['missing comma', '[1 2]', 3],
    ['truncated \\x', "'\\x4'", 1],
    ['truncated \\u', "'\\u12'", 1],
    ['\\U out of range', "'\\U00110000'", 1],
    ['\\N escape', "'\\N{BULLET}'", 1],
    ['unhashable key', "{[1]: 2}", 1],
    ['trailing text', "{'a': 1} extra", 9],
    ['stray character', '@', 0],
    ['lone sign', '-', 0],
    ['unterminated opaque repr', '<Foo', 0],
    ['number with double underscore', '1__0', 0],
    ['int too long', '9'.repeat(5000), 0],
  ];

  it.each(malformed)('rejects %s with a position', (_label, text, position) => {
    let caught: unknown;
    try {
      parsePythonLiteral(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PythonLiteralError);
    if (caught instanceof PythonLiteralError) {
      expect(caught.position).toBe(position);
      expect(caught.message).toContain(`at position ${position}`);
    }
  });

  describe('nesting limit', () => {
    it('accepts 64 levels and refuses 65', () => {
      expect(() => parsePythonLiteral(`${'['.repeat(64)}${']'.repeat(64)}`)).not.toThrow();
      expect(() => parsePythonLiteral(`${'['.repeat(65)}${']'.repeat(65)}`)).toThrow(/nesting deeper than 64/);
    });

    it('honours maxDepth', () => {
      expect(() => parsePythonLiteral('[[1]]', { maxDepth: 1 })).toThrow(PythonLiteralError);
      expect(parsePythonLiteral('[[1]]', { maxDepth: 2 })).toEqual([[1]]);
    });

    it.each([
      ['brackets', '['],
      ['braces', '{'],
      ['parentheses', '('],
      ['dict values', "{'a': "],
      ['sets of tuples', '{('],
      ['calls', 'f('],
      ['opaque reprs', '<'],
    ])('fails fast on 100 000 nested %s', (_label, open) => {
      const started = Date.now();
      expect(() => parsePythonLiteral(open.repeat(100_000))).toThrow(PythonLiteralError);
      expect(Date.now() - started).toBeLessThan(1000);
    });
  });

  it('parses a large flat input in linear time', () => {
    const text = `[${Array.from({ length: 50_000 }, (_, i) => `'item \\'${i}\\' \\xe9'`).join(', ')}]`;
    const started = Date.now();
    const value = parsePythonLiteral(text);
    expect(Array.isArray(value) && value.length).toBe(50_000);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('never throws anything but PythonLiteralError', () => {
    const alphabet = fc.constantFrom(
      ...`{}[](),:'"\\ \n0123456789.-+_eEjxuUNrbaTFN<>=`.split(''),
      'None',
      'True',
      'inf',
      "'a'",
      '\\x',
      'UUID(',
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: alphabet, maxLength: 60 }), fc.string()), text => {
        try {
          parsePythonLiteral(text);
        } catch (error) {
          if (!(error instanceof PythonLiteralError)) throw error;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseLeadingPythonDict', () => {
  it('parses the dict and ignores trailing text', () => {
    expect(parseLeadingPythonDict("  {'a': 1} and then some } ] garbage")).toEqual({ a: 1 });
  });

  it('keeps key order irrelevant', () => {
    const a = parseLeadingPythonDict("{'model': {'pk': 1, 'app': 'x'}, 'z': None}");
    const b = parseLeadingPythonDict("{'z': None, 'model': {'app': 'x', 'pk': 1}}");
    expect(a).toEqual(b);
  });

  it.each([
    ['not a dict', "['a']"],
    ['a set', '{1, 2}'],
    ['empty text', ''],
    ['a malformed dict', "{'a': }"],
  ])('rejects %s', (_label, text) => {
    expect(() => parseLeadingPythonDict(text)).toThrow(PythonLiteralError);
  });
});
