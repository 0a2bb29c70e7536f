import { describe, expect, it } from 'vitest';
import { compileKeyword, KeywordSet, normaliseText } from './text';

describe('keyword matching', () => {
  it('ignores accents and case on both sides', () => {
    const set = new KeywordSet(['contraseña', 'medicación']);
    expect(set.matchedKeywords(normaliseText('Olvidé mi CONTRASENA y la MEDICACION'))).toEqual([
      'contraseña',
      'medicación',
    ]);
  });

  it('matches whole words only, so "bill" does not match "billy" or "rebill"', () => {
    const re = compileKeyword('bill');
    expect(re.test('my bill')).toBe(true);
    re.lastIndex = 0;
    expect(re.test('billy called')).toBe(false);
    re.lastIndex = 0;
    expect(re.test('rebill it')).toBe(false);
  });

  it('treats a trailing star as a prefix match', () => {
    const set = new KeywordSet(['refill*']);
    expect(set.matchedKeywords('can i get refills')).toEqual(['refill*']);
    expect(set.matchedKeywords('prefill the form')).toEqual([]);
  });

  it('makes apostrophes optional and tolerates extra spaces between words', () => {
    const set = new KeywordSet(["can't breathe"]);
    expect(set.matchedKeywords(normaliseText('I  cant   breathe'))).toHaveLength(1);
    expect(set.matchedKeywords(normaliseText('I can’t breathe'))).toHaveLength(1);
  });

  it('escapes regex metacharacters typed as keywords', () => {
    const set = new KeywordSet(['$240 (est.)']);
    expect(set.matchedKeywords('bill $240 (est.) due')).toEqual(['$240 (est.)']);
    expect(set.matchedKeywords('bill $2400 est due')).toEqual([]);
    expect(() => new KeywordSet(['a+b', '(x'])).not.toThrow();
  });

  it('reports every occurrence with its offset', () => {
    const hits = new KeywordSet(['pain']).find('pain here, pain there');
    expect(hits.map((h) => h.index)).toEqual([0, 11]);
  });
});
