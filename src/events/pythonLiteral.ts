/**
 * A small recursive-descent parser for Python `repr` output: dicts, lists, tuples, sets,
 * str/bytes, int, float, None, True and False — what authentik prints into the body of a
 * notification that has no body mapping (`"<action>: <context dict repr>"`).
 *
 * It is total on its input: malformed text throws a {@link PythonLiteralError} carrying the
 * offending position, nesting is capped (so adversarial input cannot exhaust the stack) and
 * every step consumes input (so it cannot hang). Beyond plain literals it tolerates what a
 * repr may contain without being a literal: a call such as `UUID('…')` or
 * `datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)` becomes its first argument
 * when that is a string and `null` otherwise, a bare (dotted) name becomes `null`, and an
 * opaque `<Object …>` repr becomes `null`.
 */

/** A parsed Python value. Tuples and sets become arrays; ints beyond 2^53 become bigints. */
export type PythonValue = null | boolean | number | bigint | string | PythonValue[] | PythonDict;

/** A parsed Python dict. Non-string keys are rendered as Python would print them (`1`, `None`). */
export interface PythonDict {
  [key: string]: PythonValue;
}

/** Malformed or unsupported input, with the 0-based offset where parsing stopped. */
export class PythonLiteralError extends Error {
  /** 0-based offset into the parsed text. */
  readonly position: number;

  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.name = 'PythonLiteralError';
    this.position = position;
  }
}

/** Options of the parse functions. */
export interface PythonLiteralOptions {
  /** Deepest container/call nesting accepted (default {@link DEFAULT_MAX_DEPTH}). */
  maxDepth?: number;
}

/** Default nesting limit: far beyond authentik's contexts, far below any stack limit. */
export const DEFAULT_MAX_DEPTH = 64;

/** Python refuses int literals longer than this (`sys.int_info.default_max_str_digits`). */
const MAX_INT_DIGITS = 4300;

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\f', '\v']);
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[+-]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?/y;
const STRING_PREFIX = /^(?:[rRuUbB]|[bB][rR]|[rR][bB])$/;
const STRING_START = /([rRuUbB]|[bB][rR]|[rR][bB])?(['"])/y;
const HEX = /^[0-9a-fA-F]+$/;

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

type Brace = { kind: 'dict'; value: PythonDict } | { kind: 'set'; value: PythonValue[] };

class Parser {
  pos = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  fail(message: string, position: number = this.pos): never {
    throw new PythonLiteralError(message, position);
  }

  skipWhitespace(): void {
    while (this.pos < this.text.length && WHITESPACE.has(this.text[this.pos] ?? '')) {
      this.pos += 1;
    }
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  /** Parses one value; `depth` is the nesting level of the value about to be read. */
  parseValue(depth: number): PythonValue {
    this.skipWhitespace();
    const c = this.peek();
    if (c === undefined) this.fail('unexpected end of input');
    if (c === '{' || c === '[' || c === '(' || c === '<') this.enter(depth);
    switch (c) {
      case '{':
        return this.parseBrace(depth).value;
      case '[':
        return this.parseList(depth);
      case '(':
        return this.parseParenthesized(depth);
      case '<':
        return this.parseOpaque(depth);
      case "'":
      case '"':
        return this.parseStrings();
    }
    if (/[0-9.+-]/.test(c)) return this.parseNumber();
    if (/[A-Za-z_]/.test(c)) return this.parseNameOrStringOrCall(depth);
    return this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
  }

  private expectAfterItem(close: string): boolean {
    this.skipWhitespace();
    const c = this.peek();
    if (c === ',') {
      this.pos += 1;
      return true;
    }
    if (c === close) return false;
    return this.fail(c === undefined ? 'unexpected end of input' : `expected ',' or '${close}'`);
  }

  /** Reads items up to `close` (the opening bracket already consumed), trailing comma allowed. */
  private parseItems(close: string, depth: number, items: PythonValue[] = []): PythonValue[] {
    for (;;) {
      this.skipWhitespace();
      if (this.peek() === close) break;
      items.push(this.parseValue(depth + 1));
      if (!this.expectAfterItem(close)) break;
    }
    this.pos += 1;
    return items;
  }

  private parseList(depth: number): PythonValue[] {
    this.pos += 1;
    return this.parseItems(']', depth);
  }

  /** `()` and `(a, …)` are tuples; `(a)` is just `a`. */
  private parseParenthesized(depth: number): PythonValue {
    this.pos += 1;
    this.skipWhitespace();
    if (this.peek() === ')') {
      this.pos += 1;
      return [];
    }
    const first = this.parseValue(depth + 1);
    if (!this.expectAfterItem(')')) {
      this.pos += 1;
      return first;
    }
    return this.parseItems(')', depth, [first]);
  }

  /** A dict (`{k: v, …}`, `{}`) or a set (`{a, b}`); the cursor is on `{`. */
  parseBrace(depth: number): Brace {
    this.pos += 1;
    this.skipWhitespace();
    if (this.peek() === '}') {
      this.pos += 1;
      return { kind: 'dict', value: {} };
    }
    const firstAt = this.pos;
    const first = this.parseValue(depth + 1);
    this.skipWhitespace();
    if (this.peek() !== ':') {
      if (!this.expectAfterItem('}')) {
        this.pos += 1;
        return { kind: 'set', value: [first] };
      }
      return { kind: 'set', value: this.parseItems('}', depth, [first]) };
    }
    const entries = new Map<string, PythonValue>();
    let key = this.keyOf(first, firstAt);
    for (;;) {
      this.pos += 1; // ':'
      entries.set(key, this.parseValue(depth + 1));
      if (!this.expectAfterItem('}')) break;
      this.skipWhitespace();
      if (this.peek() === '}') break;
      const keyAt = this.pos;
      key = this.keyOf(this.parseValue(depth + 1), keyAt);
      this.skipWhitespace();
      if (this.peek() !== ':') this.fail("expected ':'");
    }
    this.pos += 1;
    // fromEntries defines own properties: a "__proto__" key stays an ordinary key.
    return { kind: 'dict', value: Object.fromEntries(entries) };
  }

  /** The string form of a dict key, refusing what Python could not hash. */
  private keyOf(key: PythonValue, at: number): string {
    const c = this.text[at];
    if (c === '[' || c === '{') this.fail('unhashable dict key', at);
    return formatKey(key);
  }

  /** `<QueryDict: {…}>`-style reprs: skipped (strings and nested `<…>` respected), `null`. */
  private parseOpaque(depth: number): null {
    const start = this.pos;
    this.pos += 1;
    let level = 1;
    while (level > 0) {
      const c = this.peek();
      if (c === undefined) this.fail("unterminated '<…>' repr", start);
      if (c === "'" || c === '"') {
        this.parseStrings();
        continue;
      }
      if (c === '<') {
        level += 1;
        this.enter(depth + level - 1);
      } else if (c === '>') {
        level -= 1;
      }
      this.pos += 1;
    }
    return null;
  }

  private parseNumber(): PythonValue {
    const start = this.pos;
    const sign = this.peek();
    if ((sign === '+' || sign === '-') && /[a-z]/.test(this.text[start + 1] ?? '')) {
      this.pos += 1;
      const name = this.readIdentifier();
      if (name === 'inf') return sign === '-' ? -Infinity : Infinity;
      if (name === 'nan') return NaN;
      return this.fail('malformed number', start);
    }
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.text);
    if (match === null) return this.fail('malformed number', start);
    const literal = match[0];
    this.pos = start + literal.length;
    if (/__|_$|_\.|\._|_[eE]|[eE][+-]?_/.test(literal)) this.fail('malformed number', start);
    const digits = literal.replace(/_/g, '');
    if (/[.eE]/.test(digits)) return Number(digits);
    if (digits.replace(/^[+-]/, '').length > MAX_INT_DIGITS) this.fail('integer literal too long', start);
    const big = BigInt(digits);
    const small = Number(big);
    return Number.isSafeInteger(small) ? small : big;
  }

  private readIdentifier(): string {
    IDENTIFIER.lastIndex = this.pos;
    const match = IDENTIFIER.exec(this.text);
    if (match === null) return this.fail('expected a name');
    this.pos += match[0].length;
    return match[0];
  }

  private parseNameOrStringOrCall(depth: number): PythonValue {
    const start = this.pos;
    const name = this.readIdentifier();
    const next = this.peek();
    if ((next === "'" || next === '"') && STRING_PREFIX.test(name)) {
      this.pos = start;
      return this.parseStrings();
    }
    let dotted = name;
    while (this.peek() === '.' && /[A-Za-z_]/.test(this.text[this.pos + 1] ?? '')) {
      this.pos += 1;
      dotted += `.${this.readIdentifier()}`;
    }
    const afterName = this.pos;
    this.skipWhitespace();
    if (this.peek() === '(') {
      this.enter(depth);
      return this.parseCallArguments(depth);
    }
    this.pos = afterName;
    switch (dotted) {
      case 'None':
        return null;
      case 'True':
        return true;
      case 'False':
        return false;
      case 'inf':
        return Infinity;
      case 'nan':
        return NaN;
      default:
        return null;
    }
  }

  /** `Name(arg, …, key=value)`: the first positional argument if a string, else `null`. */
  private parseCallArguments(depth: number): PythonValue {
    this.pos += 1;
    let result: PythonValue = null;
    let sawPositional = false;
    for (;;) {
      this.skipWhitespace();
      if (this.peek() === ')') break;
      if (this.skipKeywordName()) {
        this.parseValue(depth + 1);
      } else {
        const value = this.parseValue(depth + 1);
        if (!sawPositional) {
          sawPositional = true;
          result = typeof value === 'string' ? value : null;
        }
      }
      if (!this.expectAfterItem(')')) break;
    }
    this.pos += 1;
    return result;
  }

  /** Consumes `name=` (not `==`) if it is next; otherwise leaves the cursor alone. */
  private skipKeywordName(): boolean {
    const start = this.pos;
    IDENTIFIER.lastIndex = start;
    const match = IDENTIFIER.exec(this.text);
    if (match === null) return false;
    this.pos += match[0].length;
    this.skipWhitespace();
    if (this.peek() === '=' && this.text[this.pos + 1] !== '=') {
      this.pos += 1;
      return true;
    }
    this.pos = start;
    return false;
  }

  /** One string literal, or several adjacent ones concatenated as Python does. */
  parseStrings(): string {
    let out = this.parseOneString();
    for (;;) {
      const save = this.pos;
      this.skipWhitespace();
      STRING_START.lastIndex = this.pos;
      if (!STRING_START.test(this.text)) {
        this.pos = save;
        return out;
      }
      out += this.parseOneString();
    }
  }

  private parseOneString(): string {
    const start = this.pos;
    STRING_START.lastIndex = start;
    const opening = STRING_START.exec(this.text);
    if (opening === null) return this.fail('expected a string', start);
    const prefix = opening[1] ?? '';
    this.pos += prefix.length;
    const raw = /[rR]/.test(prefix);
    const bytes = /[bB]/.test(prefix);
    const quote = opening[2] ?? "'";
    const triple = this.text.startsWith(quote.repeat(3), this.pos);
    this.pos += triple ? 3 : 1;
    const chunks: string[] = [];
    let runStart = this.pos;
    for (;;) {
      const c = this.peek();
      if (c === undefined) return this.fail('unterminated string', start);
      if (c === quote && (!triple || this.text.startsWith(quote.repeat(3), this.pos))) {
        chunks.push(this.text.slice(runStart, this.pos));
        this.pos += triple ? 3 : 1;
        return chunks.join('');
      }
      if ((c === '\n' || c === '\r') && !triple) return this.fail('unterminated string', start);
      if (c !== '\\') {
        this.pos += 1;
        continue;
      }
      chunks.push(this.text.slice(runStart, this.pos));
      if (raw) {
        // In raw strings a backslash only protects the next character; both are kept.
        if (this.pos + 1 >= this.text.length) return this.fail('unterminated string', start);
        chunks.push(this.text.slice(this.pos, this.pos + 2));
        this.pos += 2;
      } else {
        chunks.push(this.parseEscape(bytes, start));
      }
      runStart = this.pos;
    }
  }

  /** Reads the escape sequence at the cursor (on the backslash) and returns its value. */
  private parseEscape(bytes: boolean, stringStart: number): string {
    const at = this.pos;
    const e = this.text[at + 1];
    if (e === undefined) return this.fail('unterminated string', stringStart);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      this.pos += 2;
      return simple;
    }
    if (e === '\n' || e === '\r') {
      // Line continuation: backslash-newline is dropped.
      this.pos += e === '\r' && this.text[at + 2] === '\n' ? 3 : 2;
      return '';
    }
    if (e >= '0' && e <= '7') {
      const octal = /^[0-7]{1,3}/.exec(this.text.slice(at + 1, at + 4))?.[0] ?? e;
      this.pos += 1 + octal.length;
      return String.fromCharCode(parseInt(octal, 8));
    }
    const width = e === 'x' ? 2 : !bytes && e === 'u' ? 4 : !bytes && e === 'U' ? 8 : 0;
    if (width > 0) {
      const hex = this.text.slice(at + 2, at + 2 + width);
      if (hex.length !== width || !HEX.test(hex)) {
        return this.fail(`truncated \\${e} escape`, at);
      }
      const codePoint = parseInt(hex, 16);
      if (codePoint > 0x10ffff) return this.fail('illegal Unicode character', at);
      this.pos += 2 + width;
      return String.fromCodePoint(codePoint);
    }
    if (!bytes && e === 'N') return this.fail('\\N{…} escapes are not supported', at);
    // Python keeps unknown escapes verbatim (with a warning).
    this.pos += 2;
    return `\\${e}`;
  }
}

/** How Python would print a hashable key, for use as an object key. */
function formatKey(key: PythonValue): string {
  if (typeof key === 'string') return key;
  if (key === null) return 'None';
  if (typeof key === 'boolean') return key ? 'True' : 'False';
  if (typeof key === 'number' || typeof key === 'bigint') return String(key);
  if (Array.isArray(key)) {
    const inner = key.map(formatKey);
    return `(${inner.join(', ')}${inner.length === 1 ? ',' : ''})`;
  }
  return '{…}';
}

function maxDepthOf(options: PythonLiteralOptions | undefined): number {
  return options?.maxDepth ?? DEFAULT_MAX_DEPTH;
}

/**
 * Parses `text`, which must hold exactly one Python literal (surrounding whitespace allowed).
 * @throws PythonLiteralError on malformed input or nesting deeper than `maxDepth`.
 */
export function parsePythonLiteral(text: string, options?: PythonLiteralOptions): PythonValue {
  const parser: Parser = new Parser(text, maxDepthOf(options));
  const value = parser.parseValue(1);
  parser.skipWhitespace();
  if (parser.pos < text.length) parser.fail('unexpected trailing text');
  return value;
}

/**
 * Parses the dict that starts `text` (after optional whitespace) and ignores whatever follows
 * it — the shape of authentik's `"<action>: <context>"` notification bodies.
 * @throws PythonLiteralError when `text` does not start with a well-formed dict.
 */
export function parseLeadingPythonDict(text: string, options?: PythonLiteralOptions): PythonDict {
  const parser: Parser = new Parser(text, maxDepthOf(options));
  parser.skipWhitespace();
  if (parser.peek() !== '{') parser.fail('expected a dict');
  const brace = parser.parseBrace(1);
  if (brace.kind !== 'dict') parser.fail('expected a dict, found a set', 0);
  return brace.value;
}
