// Python's str methods as lm-evaluation-harness calls them, for prompts built character for
// character as the harness builds them: strip/rstrip use Python's whitespace (str.isspace), which
// differs from JavaScript's \s (Python counts \x1c-\x1f and \x85, not \ufeff); len counts code
// points, not UTF-16 units; capitalize upper-cases the first character and lower-cases the rest.

const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

export const isPySpace = (ch: string) => PY_SPACE.has(ch.codePointAt(0)!);

export function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && PY_SPACE.has(s.charCodeAt(end - 1))) end--;
  return s.slice(0, end);
}

export function pyLstrip(s: string): string {
  let start = 0;
  while (start < s.length && PY_SPACE.has(s.charCodeAt(start))) start++;
  return s.slice(start);
}

export const pyStrip = (s: string) => pyLstrip(pyRstrip(s));

/** len(s) in Python: code points. */
export const pyLen = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Characters whose title case (what capitalize() uses) is not their upper case. */
const TITLE: Record<string, string> = {
  Ǆ: 'ǅ', ǅ: 'ǅ', ǆ: 'ǅ', Ǉ: 'ǈ', ǈ: 'ǈ', ǉ: 'ǈ', Ǌ: 'ǋ', ǋ: 'ǋ', ǌ: 'ǋ', Ǳ: 'ǲ', ǲ: 'ǲ', ǳ: 'ǲ',
  ß: 'Ss', ﬀ: 'Ff', ﬁ: 'Fi', ﬂ: 'Fl', ﬃ: 'Ffi', ﬄ: 'Ffl', ﬅ: 'St', ﬆ: 'St', և: 'Եւ',
};

/** str.capitalize() (Python ≥ 3.8): the first code point in title case, the rest lower-cased. */
export function pyCapitalize(s: string): string {
  const [first, ...rest] = [...s];
  if (first === undefined) return s;
  return (TITLE[first] ?? first.toUpperCase()) + rest.join('').toLowerCase();
}
