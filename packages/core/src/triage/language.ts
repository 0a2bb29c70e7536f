// English/Spanish detection for routing. A stop-word vote rather than a trigram model (franc-min):
// patient SMS are often 3–10 words, where trigram models are unreliable (franc itself advises ≥ 10
// characters and still confuses short Romance texts), and a pure function is deterministic and free.
import { normaliseText } from './text';

export const supportedLanguages = ['en', 'es'] as const;
export type SupportedLanguage = (typeof supportedLanguages)[number];

export interface LanguageGuess {
  language: SupportedLanguage | 'und';
  /** 0..1; share of the decisive votes won by the chosen language. */
  confidence: number;
}

const en = new Set(
  `the an and or but is are was were be been am i i'm im my me you your it it's its this that these those
  to of in on at for with from by about have has had do does did don't dont can can't cant could would should will
  not no please thanks thank hi hello help need want get got what when where why how which who there here they
  them their our we us he she his her just still since because if so bill paid pay insurance card refill
  appointment doctor portal password account claim charge charged call called yesterday today tomorrow`
    .split(/\s+/)
    .filter(Boolean),
);

const es = new Set(
  `el la los las un una unos unas y o pero es son fue era estoy esta estan tengo tiene tienen mi mis me yo tu su sus
  de del en con por para sobre que porque como cuando donde quien cual hola gracias favor por-favor ayuda necesito
  quiero puedo puede pueden no si ya muy mas menos hay ayer hoy manana cuenta factura pago pague seguro tarjeta
  receta cita doctora medico portal contrasena reclamo cobro cobraron llame llamaron nos les lo le al este esta eso
  usted ustedes cuanto cuanta debo aceptan necesita quisiera hablan tienen puedo buenas buenos dias tardes todavia desde pues tambien`
    .split(/\s+/)
    .filter(Boolean),
);

/** Guess EN or ES from a message; 'und' when there is no signal either way. */
export function detectLanguage(text: string): LanguageGuess {
  // Spanish-only orthography is strong evidence before accents are folded away.
  const lower = text.toLowerCase();
  let esScore = (lower.match(/[ñ¿¡]/g)?.length ?? 0) * 2 + (lower.match(/[áéíóú]/g)?.length ?? 0) * 0.5;
  let enScore = 0;
  const words = normaliseText(text).match(/[\p{L}']+/gu) ?? [];
  for (const w of words) {
    const inEn = en.has(w);
    const inEs = es.has(w);
    // Words shared by both lists ("no", "portal") carry no vote.
    if (inEn && !inEs) enScore += 1;
    else if (inEs && !inEn) esScore += 1;
  }
  const total = enScore + esScore;
  if (total === 0) return { language: 'und', confidence: 0 };
  if (esScore > enScore) return { language: 'es', confidence: esScore / total };
  if (enScore > esScore) return { language: 'en', confidence: enScore / total };
  return { language: 'und', confidence: 0.5 };
}
