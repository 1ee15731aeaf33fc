/**
 * Python's `repr()` of the JSON-like values authentik puts in an event context, as it
 * appears in the default webhook body (`f"{action}: {context}"`).
 *
 * The context comes back from a Postgres `jsonb` column, which stores object keys ordered
 * by UTF-8 byte length, then bytewise: dict keys are emitted in that order, recursively.
 * JSON numbers that are (safe) integers are Python ints; others are floats.
 */

export type PyValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | readonly PyValue[]
  | { readonly [key: string]: PyValue };

export function pythonRepr(value: PyValue): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return numberRepr(value);
  if (typeof value === 'string') return stringRepr(value);
  if (isList(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  const entries = Object.keys(value)
    .sort(compareJsonbKeys)
    .map(key => `${stringRepr(key)}: ${pythonRepr(value[key])}`);
  return `{${entries.join(', ')}}`;
}

function isList(value: PyValue): value is readonly PyValue[] {
  return Array.isArray(value);
}

/** jsonb's key order: shorter (in UTF-8 bytes) first, then bytewise. */
export function compareJsonbKeys(a: string, b: string): number {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length - right.length || Buffer.compare(left, right);
}

/** CPython's `unicode_repr`. */
export function stringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (code < 0x7f || isPrintable(ch)) out += ch;
    else if (code <= 0xff) out += `\\x${hex(code, 2)}`;
    else if (code <= 0xffff) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return out + quote;
}

/**
 * Python's `str.isprintable` for one character: everything except the "Other" and
 * "Separator" categories, with the ASCII space allowed. A lone surrogate is `Cs`.
 */
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

function isPrintable(ch: string): boolean {
  return ch === ' ' || !NON_PRINTABLE.test(ch);
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

/** Safe integers as Python ints; other numbers as CPython's shortest float repr. */
function numberRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  // Beyond 2^53 a JSON number is almost surely a float that happens to be integral.
  if (Number.isSafeInteger(value)) return String(value);
  const sign = value < 0 ? '-' : '';
  // toExponential() without argument yields the shortest round-tripping digits.
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const decimalPoint = exponent + 1;
  if (decimalPoint <= -4 || decimalPoint > 16) {
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? '-' : '+';
    return `${sign}${head}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (decimalPoint <= 0) return `${sign}0.${'0'.repeat(-decimalPoint)}${digits}`;
  if (decimalPoint < digits.length) return `${sign}${digits.slice(0, decimalPoint)}.${digits.slice(decimalPoint)}`;
  return `${sign}${digits}${'0'.repeat(decimalPoint - digits.length)}.0`;
}
