import { describe, expect, it } from 'vitest';
import {
  defaultRedFlagConfig,
  detectRedFlags,
  RedFlagDetector,
  redFlagConfigSchema,
  safetyPromptFor,
} from './red-flags';

describe('red-flag detection', () => {
  it.each([
    ['I have chest pain and my left arm is numb', 'chest-pain'],
    ['cant breathe', 'breathing'],
    ["I've been thinking about killing myself", 'suicide'],
    ['his face is drooping and speech is slurred', 'stroke'],
    ['the cut is bleeding heavily and will not stop', 'bleeding'],
    ['tengo dolor de pecho', 'chest-pain'],
    ['no puedo respirar', 'breathing'],
    ['ya me quiero morir', 'suicide'],
    ['pienso en suicidarme', 'suicide'],
    ['se me cae la cara de un lado', 'stroke'],
    ['tengo un sangrado abundante', 'bleeding'],
  ])('flags %j as %s', (text, kind) => {
    const result = detectRedFlags(text);
    expect(result.flagged).toBe(true);
    expect(result.kinds).toContain(kind);
  });

  it.each([
    'my chest x-ray bill is too high',
    'breathing treatment copay',
    'no chest pain since the new medication',
    'I do not have chest pain',
    'denies shortness of breath',
    'the bleeding stopped last year',
    'sin dolor de pecho desde la cita',
    'no tengo dolor de pecho',
    'niego tener dolor de pecho',
  ])('does not flag %j', (text) => {
    expect(detectRedFlags(text).flagged).toBe(false);
  });

  it('keeps the dismissed mention and the reason for auditing', () => {
    const result = detectRedFlags('no chest pain. the heavy bleeding stopped last year');
    expect(result.dismissed.map((d) => [d.kind, d.reason])).toEqual([
      ['chest-pain', 'negated'],
      ['bleeding', 'resolved'],
    ]);
  });

  it('flags when unsure, even with a negation word nearby', () => {
    expect(detectRedFlags("I'm not sure if it's chest pain or heartburn").flagged).toBe(true);
    expect(detectRedFlags('no sé si es dolor de pecho o agruras').flagged).toBe(true);
  });

  it('keeps the flag when a negation describes something new or worse than before', () => {
    expect(detectRedFlags("I've never had chest pain like this before").flagged).toBe(true);
    expect(detectRedFlags('nunca había tenido un dolor de pecho así').flagged).toBe(true);
    expect(detectRedFlags('me desperté sin poder respirar').flagged).toBe(true);
  });

  it('does not let a negation reach across "and", "but" or a new sentence', () => {
    expect(detectRedFlags("I don't have insurance and chest pain started an hour ago").flagged).toBe(true);
    expect(detectRedFlags('No fever, but chest pain all night').flagged).toBe(true);
    expect(detectRedFlags('No. I have chest pain').flagged).toBe(true);
    expect(detectRedFlags('no tengo seguro y tengo dolor de pecho').flagged).toBe(true);
  });

  it('does not treat "has not stopped" as resolved', () => {
    expect(detectRedFlags("heavy bleeding that hasn't stopped since last year").flagged).toBe(true);
  });

  it('flags one real mention among negated ones', () => {
    const result = detectRedFlags('no chest pain, but I am short of breath');
    expect(result.kinds).toEqual(['breathing']);
  });

  it('asks for urgent priority in the clinical-escalation queue', () => {
    expect(detectRedFlags('chest pain').action).toEqual({
      priority: 'urgent',
      queue: 'clinical-escalation',
      category: 'care-coordination',
    });
    expect(detectRedFlags('my bill').action).toBeUndefined();
  });

  it('gives a 988 crisis script for suicide and a 911 script for other emergencies, in the message language', () => {
    const en = detectRedFlags('I want to die and my chest hurts').safetyPrompt;
    expect(en?.language).toBe('en');
    expect(en?.text).toMatch(/988/);
    expect(en?.text).toMatch(/911/);
    expect(en!.text.indexOf('988')).toBeLessThan(en!.text.indexOf('chest pain'));

    const es = detectRedFlags('mi esposo no puede respirar, ayúdenme por favor').safetyPrompt;
    expect(es?.language).toBe('es');
    expect(es?.text).toMatch(/llame al 911/);
    expect(es?.text).not.toMatch(/988/);
  });

  it('builds a script for given kinds directly', () => {
    expect(safetyPromptFor(['suicide'], 'es').text).toMatch(/988/);
    expect(safetyPromptFor(['bleeding'], 'en').text).not.toMatch(/988/);
  });

  it('accepts a tenant configuration with extra terms', () => {
    const config = redFlagConfigSchema.parse({
      ...defaultRedFlagConfig,
      terms: [
        ...defaultRedFlagConfig.terms,
        { id: 'en.sepsis', kind: 'unresponsive', language: 'en', phrases: ['confused and feverish'] },
      ],
    });
    expect(new RedFlagDetector(config).detect('Grandpa is confused and feverish').flagged).toBe(true);
  });
});

describe('red-flag match reporting', () => {
  it('reports one match for a phrase present in both language lists', () => {
    const result = detectRedFlags('I feel suicidal');
    expect(result.matches).toHaveLength(1);
    expect(result.matches[0]).toMatchObject({ kind: 'suicide', index: 7, length: 8 });
  });
});
