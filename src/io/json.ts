/**
 * A strict JSON reader for untrusted headers (safetensors).
 *
 * `JSON.parse` silently keeps the last of duplicate keys, accepts lone UTF-16
 * surrogates and turns every number into a double. The safetensors spec
 * forbids duplicate keys and its reference parser (serde_json) reads offsets
 * and dimensions as exact unsigned integers, so this reader keeps objects as
 * `Map`s (refusing duplicates), keeps numbers as their source text, and
 * refuses nesting deeper than serde_json's default recursion limit (128).
 * Every failure is a `JsonSyntaxError` carrying the character position.
 */

/** A JSON number, kept as written so integers are never rounded. */
export class JsonNumber {
  constructor(readonly raw: string) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | Map<string, JsonValue>;

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at character ${position}`);
    this.name = 'JsonSyntaxError';
  }
}

const MAX_DEPTH = 128;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function parseStrictJson(text: string): JsonValue {
  let pos = 0;

  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, pos);
  };
  const skipWhitespace = () => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else return;
    }
  };
  const expect = (ch: string) => {
    if (text[pos] !== ch) fail(pos >= text.length ? `expected '${ch}', found end of input` : `expected '${ch}'`);
    pos++;
  };

  const parseString = (): string => {
    expect('"');
    let out = '';
    let runStart = pos;
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        out += text.slice(runStart, pos);
        pos++;
        break;
      }
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += text.slice(runStart, pos);
      const e = text[pos + 1];
      pos += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(pos, pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 4;
          break;
        }
        default:
          pos -= 2;
          fail('invalid escape');
      }
      runStart = pos;
    }
    if (LONE_SURROGATE.test(out)) fail('lone surrogate in string');
    return out;
  };

  const parseValue = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    skipWhitespace();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const map = new Map<string, JsonValue>();
      skipWhitespace();
      if (text[pos] === '}') {
        pos++;
        return map;
      }
      for (;;) {
        skipWhitespace();
        const keyPos = pos;
        const key = parseString();
        if (map.has(key)) {
          pos = keyPos;
          fail(`duplicate key ${JSON.stringify(key)}`);
        }
        skipWhitespace();
        expect(':');
        map.set(key, parseValue(depth + 1));
        skipWhitespace();
        if (text[pos] === ',') pos++;
        else if (text[pos] === '}') {
          pos++;
          return map;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos++;
      const items: JsonValue[] = [];
      skipWhitespace();
      if (text[pos] === ']') {
        pos++;
        return items;
      }
      for (;;) {
        items.push(parseValue(depth + 1));
        skipWhitespace();
        if (text[pos] === ',') pos++;
        else if (text[pos] === ']') {
          pos++;
          return items;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m) {
      pos += m[0].length;
      return new JsonNumber(m[0]);
    }
    return fail(pos >= text.length ? 'unexpected end of input' : 'unexpected character');
  };

  const value = parseValue(0);
  skipWhitespace();
  if (pos !== text.length) fail('trailing characters after the JSON value');
  return value;
}
