import { describe, expect, it } from 'vitest';
import { detectLanguage } from './language';

describe('language detection', () => {
  it.each([
    ['I need a refill of my blood pressure medication please', 'en'],
    ['got a bill but i already paid', 'en'],
    ['Necesito resurtir la receta de la presión, por favor', 'es'],
    ['cuanto debo', 'es'],
    ['¿Aceptan Medicaid?', 'es'],
    ['me llego una factura pero ya pague', 'es'],
  ])('detects %j as %s', (text, expected) => {
    expect(detectLanguage(text).language).toBe(expected);
  });

  it('returns und when nothing signals either language', () => {
    expect(detectLanguage('T-1042 ok 👍')).toEqual({ language: 'und', confidence: 0 });
  });

  it('is deterministic and reports a confidence between 0 and 1', () => {
    const a = detectLanguage('hola, my bill es muy alto');
    expect(detectLanguage('hola, my bill es muy alto')).toEqual(a);
    expect(a.confidence).toBeGreaterThan(0);
    expect(a.confidence).toBeLessThanOrEqual(1);
  });
});
