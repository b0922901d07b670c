/**
 * The small part of Python's literal syntax that `.npy` headers use (what `repr` of a dict of
 * strings, booleans and integer tuples prints): dicts, tuples, lists, quoted strings, integers
 * (with Python 2's `L` suffix, which old files carry), True, False and None.
 */
export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const skip = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string): void => {
    skip();
    if (text[i] !== c) throw new Error(`expected '${c}' at offset ${i}`);
    i++;
  };
  // Items up to `close`, each followed by a comma or the close; a trailing comma is allowed.
  const items = (close: string, item: () => void): void => {
    skip();
    while (text[i] !== close) {
      item();
      skip();
      if (text[i] === ',') i++;
      else if (text[i] !== close) throw new Error(`expected ',' or '${close}' at offset ${i}`);
      skip();
    }
    i++;
  };
  const value = (): PyValue => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const dict: Record<string, PyValue> = Object.create(null);
      items('}', () => {
        const key = value();
        if (typeof key !== 'string') throw new Error(`a dict key is not a string at offset ${i}`);
        expect(':');
        dict[key] = value();
      });
      return dict;
    }
    if (c === '(' || c === '[') {
      i++;
      const list: PyValue[] = [];
      items(c === '(' ? ')' : ']', () => list.push(value()));
      return list;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated string at offset ${i}`);
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const word = /^(-?\d+)L?|^(True|False|None)\b/.exec(text.slice(i));
    if (!word) throw new Error(`unexpected ${c === undefined ? 'end' : `'${c}'`} at offset ${i}`);
    i += word[0].length;
    if (word[1] !== undefined) return Number(word[1]);
    return word[2] === 'None' ? null : word[2] === 'True';
  };
  const v = value();
  skip();
  if (i !== text.length) throw new Error(`unexpected text after the value at offset ${i}`);
  return v;
}
