// From Neuronpedia's token strings back to the model's token ids.
//
// An activation record stores each token as a string, not an id. SAEDashboard's Neuronpedia runner
// writes the token's vocabulary piece with three substitutions: `Ġ` (GPT-2's byte-level space)
// becomes a space, a literal newline becomes the two characters `\n`, and `Ċ` (byte-level newline)
// becomes a newline. Gemma's SentencePiece pieces therefore arrive as stored (`▁the`, byte pieces
// `<0x0A>`), except its newline pieces, which arrive escaped (`\n`, `\n\n` as backslash-n).
// Each string is looked up in the model's vocabulary as each form it may have been, in this order:
//   1. the string itself (a piece written unchanged: `▁the`, `<0x80>`, `<bos>`),
//   2. backslash-n turned back into newlines (Gemma's newline pieces),
//   3. the byte-level forms: space → `Ġ`, newline → `Ċ`,
//   4. a decoded SentencePiece form: space → `▁`, and a lone newline as `<0x0A>`,
// and the first form the vocabulary holds gives the id. A string no form matches (the runner's
// `<|outofrange|>`, a token of another tokenizer) has no id: a phrase containing it is dropped and
// counted, never guessed. Text is then made by the tokenizer's own decoder from the ids.

/** The forms a token string may stand for, most literal first. */
export function pieceCandidates(token: string): string[] {
  const forms = [token];
  if (token.includes('\\n')) forms.push(token.replaceAll('\\n', '\n'));
  if (/[ \n]/.test(token)) forms.push(token.replaceAll(' ', 'Ġ').replaceAll('\n', 'Ċ'));
  if (token.includes(' ')) forms.push(token.replaceAll(' ', '▁'));
  if (token === '\n') forms.push('<0x0A>');
  return [...new Set(forms)];
}

export interface VocabEntry {
  id: number;
  special: boolean;
}

export interface ResolvedToken {
  id: number;
  /** The vocabulary piece the id stands for. */
  piece: string;
  special: boolean;
}

/** Every form of every distinct token string, for one vocabulary lookup. */
export function formsToLookUp(tokens: Iterable<string>): string[] {
  const all = new Set<string>();
  for (const t of tokens) for (const f of pieceCandidates(t)) all.add(f);
  return [...all];
}

/** A token string's id through `vocab` (piece → entry), or null when no form is in it. */
export function resolveToken(token: string, vocab: ReadonlyMap<string, VocabEntry>): ResolvedToken | null {
  for (const form of pieceCandidates(token)) {
    const entry = vocab.get(form);
    if (entry) return { id: entry.id, piece: form, special: entry.special };
  }
  return null;
}

/** A piece that ends a line or a document: after it, the next token starts a phrase. */
export function isBreak(t: ResolvedToken): boolean {
  return t.special || t.piece === '<0x0A>' || (t.piece !== '' && /^[\nĊ]+$/u.test(t.piece));
}

/** Token i may start a phrase: the first token, a token that starts a word (SentencePiece `▁`,
 * byte-level `Ġ`), a break, or the token after a break. */
export function isBoundary(tokens: readonly ResolvedToken[], i: number): boolean {
  if (i === 0) return true;
  const p = tokens[i].piece;
  return p.startsWith('▁') || p.startsWith('Ġ') || isBreak(tokens[i]) || isBreak(tokens[i - 1]);
}
