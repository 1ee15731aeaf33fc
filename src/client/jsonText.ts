import { isAscii } from 'node:buffer';

/**
 * The UTF-8 bytes of a JSON document as a string that `JSON.parse` reads to the same value,
 * written in ASCII only: every non-ASCII character becomes its `\uXXXX` escape.
 *
 * Why: decoding a page that holds one accented name as UTF-8 costs ten times what copying
 * ASCII does, and makes the whole page (72 KB of users) a two-byte string that parses slower
 * and weighs double. Outside strings JSON is ASCII, so non-ASCII bytes only occur inside
 * strings, where a character and its escape are the same; bytes that are not valid UTF-8
 * become U+FFFD, exactly as `buffer.toString('utf8')` decodes them.
 */
export function jsonText(bytes: Buffer): string {
  if (isAscii(bytes)) return bytes.toString('latin1');
  const parts: string[] = [];
  let copied = 0;
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] < 0x80) {
      i++;
      continue;
    }
    const start = i;
    while (i < bytes.length && bytes[i] >= 0x80) i++;
    parts.push(bytes.toString('latin1', copied, start), escapeNonAscii(bytes.toString('utf8', start, i)));
    copied = i;
  }
  parts.push(bytes.toString('latin1', copied));
  return parts.join('');
}

function escapeNonAscii(text: string): string {
  let escaped = '';
  for (let i = 0; i < text.length; i++) {
    escaped += `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return escaped;
}
