// Text normalisation and keyword matching shared by routing rules and red flags: accent- and
// case-insensitive, on word boundaries, so "medicación" matches "medicacion" and "bill" not "billy".

/** Lower-case, strip diacritics (NFD + remove combining marks), fold curly quotes, collapse spaces. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/[\u2018\u2019\u02BC`´]/g, "'")
    .replace(/[\u201C\u201D]/g, '"')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Compile one keyword into a regex over normalised text. Syntax, kept deliberately tiny so tenant
 * admins cannot write anything slow: words separated by spaces match any run of whitespace or
 * punctuation-free gap (`chest pain` ~ `chest  pain`); a trailing `*` on a word is a prefix match
 * (`bill*` ~ `billing`, `bills`); an apostrophe is optional (`cant` ~ `can't`). Matching is on
 * word boundaries (letters/digits), so `er` never matches inside `never`.
 */
export function compileKeyword(keyword: string): RegExp {
  const words = normaliseText(keyword).split(' ').filter(Boolean);
  const parts = words.map((w) => {
    const prefix = w.endsWith('*');
    const core = prefix ? w.slice(0, -1) : w;
    const body = core
      .split("'")
      .map((piece) => escapeRegExp(piece))
      .join("'?");
    return prefix ? `${body}[\\p{L}\\p{N}]*` : body;
  });
  return new RegExp(`(?<![\\p{L}\\p{N}])${parts.join('[\\s\\-/]+')}(?![\\p{L}\\p{N}])`, 'gu');
}

export interface KeywordHit {
  keyword: string;
  /** Offsets in the normalised text. */
  index: number;
  length: number;
}

/** A set of keywords compiled once; `find` runs on text already passed through `normaliseText`. */
export class KeywordSet {
  readonly #compiled: { keyword: string; re: RegExp }[];
  constructor(keywords: readonly string[]) {
    this.#compiled = keywords.map((keyword) => ({ keyword, re: compileKeyword(keyword) }));
  }
  get size(): number {
    return this.#compiled.length;
  }
  find(normalised: string): KeywordHit[] {
    const hits: KeywordHit[] = [];
    for (const { keyword, re } of this.#compiled) {
      re.lastIndex = 0;
      for (const m of normalised.matchAll(re)) {
        hits.push({ keyword, index: m.index ?? 0, length: m[0].length });
      }
    }
    return hits.sort((a, b) => a.index - b.index);
  }
  matchedKeywords(normalised: string): string[] {
    const out: string[] = [];
    for (const { keyword, re } of this.#compiled) {
      re.lastIndex = 0;
      if (re.test(normalised)) out.push(keyword);
    }
    return out;
  }
}
