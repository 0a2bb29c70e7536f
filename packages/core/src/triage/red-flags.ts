// Clinical red-flag detection for inbound patient text (EN/ES). Deliberately conservative: a phrase
// is only dismissed when a negation ("no chest pain", "sin dolor de pecho") or a resolution ("the
// bleeding stopped last year") clearly applies to it; anything unclear stays flagged. A support desk
// is not a triage nurse: a flag routes to clinical staff (WB-01 escalation) and shows a safety script.
import { z } from 'zod';
import { type TicketCategory, type TicketPriority, ticketCategories } from '../db/schema/enums';
import { detectLanguage, type SupportedLanguage } from './language';
import { KeywordSet, normaliseText } from './text';

export const redFlagKinds = [
  'chest-pain',
  'breathing',
  'suicide',
  'stroke',
  'bleeding',
  'overdose',
  'anaphylaxis',
  'unresponsive',
] as const;
export type RedFlagKind = (typeof redFlagKinds)[number];

export const redFlagTermSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
  kind: z.enum(redFlagKinds),
  language: z.enum(['en', 'es']),
  /** Keyword syntax of `compileKeyword`: words, `*` suffix for prefixes, optional apostrophes. */
  phrases: z.array(z.string().min(2).max(80)).min(1),
});
export type RedFlagTerm = z.output<typeof redFlagTermSchema>;

export const redFlagConfigSchema = z.strictObject({
  terms: z.array(redFlagTermSchema).min(1),
  /** Single tokens (apostrophes removed) that negate a phrase at most `negationWindow` words later. */
  negationCues: z.array(z.string().min(1)),
  /**
   * Phrases in the clause that cancel a negation: doubt ("not sure if it's chest pain") and
   * novelty or severity ("never had chest pain like this") keep the flag.
   */
  uncertaintyCues: z.array(z.string().min(1)),
  /** Phrases after the hit, in the same clause, saying it is over ("stopped", "last year"). */
  resolutionCues: z.array(z.string().min(1)),
  /** Words that end a negation's scope ("no insurance and chest pain"). */
  scopeTerminators: z.array(z.string().min(1)),
  negationWindow: z.number().int().min(1).max(8),
  queue: z.string().min(1),
  /** Category given to a flagged message that no routing rule categorised. */
  category: z.enum(ticketCategories),
  priority: z.enum(['low', 'normal', 'high', 'urgent']),
});
export type RedFlagConfig = z.output<typeof redFlagConfigSchema>;

const en = (id: string, kind: RedFlagKind, phrases: string[]): RedFlagTerm => ({ id, kind, language: 'en', phrases });
const es = (id: string, kind: RedFlagKind, phrases: string[]): RedFlagTerm => ({ id, kind, language: 'es', phrases });

export const defaultRedFlagTerms: readonly RedFlagTerm[] = [
  en('en.chest-pain', 'chest-pain', [
    'chest pain*',
    'chest pian',
    'chest hurts',
    'chest is hurting',
    'chest tight*',
    'pressure in my chest',
    'pain in my chest',
    'pains in my chest',
    'crushing chest',
    'chest feels heavy',
    'chest feels tight',
    'heaviness in my chest',
    'heavy feeling in my chest',
    'chest pressure',
    'heart attack',
    'my heart is racing',
    'pain down my left arm',
  ]),
  en('en.breathing', 'breathing', [
    "can't breathe",
    "can't breath",
    'cannot breathe',
    'unable to breathe',
    'without being able to breathe',
    'not able to breathe',
    'hard to breathe',
    'trouble breathing',
    'hard time breathing',
    'hard to breath',
    'difficulty breathing',
    'struggling to breathe',
    'short of breath',
    'shortness of breath',
    'gasping',
    "can't catch my breath",
    'lips are blue',
    'lips turning blue',
  ]),
  en('en.suicide', 'suicide', [
    'suicid*',
    'kill myself',
    'killing myself',
    'end my life',
    'ending my life',
    'want to die',
    'wanna die',
    "don't want to live",
    "don't want to be alive",
    'better off dead',
    'hurt myself',
    'hurting myself',
    'harm myself',
    'self harm',
    'take my own life',
    'no reason to live',
  ]),
  en('en.stroke', 'stroke', [
    'having a stroke',
    'a stroke right now',
    'signs of a stroke',
    'stroke symptoms',
    'face is drooping',
    'face droop*',
    'drooping face',
    'side of his face',
    'side of her face',
    'side of my face',
    'slurred speech',
    'slurring',
    "can't lift my arm",
    "can't lift his arm",
    "can't lift her arm",
    "can't move my arm",
    'one side of my body',
    'suddenly numb',
  ]),
  en('en.bleeding', 'bleeding', [
    'bleeding heavily',
    'heavy bleeding',
    'severe bleeding',
    'bleeding a lot',
    'bleeding badly',
    "won't stop bleeding",
    'wont stop bleeding',
    "can't stop the bleeding",
    "can't stop bleeding",
    'bleeding through',
    'soaked through',
    'blood everywhere',
    'coughing up blood',
    'vomiting blood',
    'throwing up blood',
    'lot of blood',
  ]),
  en('en.overdose', 'overdose', ['overdos*', 'took too many pills', 'took a whole bottle']),
  en('en.anaphylaxis', 'anaphylaxis', [
    'throat is closing',
    'throat closing',
    'throat is swelling',
    'tongue is swelling',
    'lips are swelling',
    'anaphyla*',
  ]),
  en('en.unresponsive', 'unresponsive', [
    'passed out',
    'unconscious',
    'unresponsive',
    "won't wake up",
    'having a seizure',
    'seizing',
  ]),
  es('es.chest-pain', 'chest-pain', [
    'dolor de pecho',
    'dolor en el pecho',
    'dolores en el pecho',
    'dolor fuerte en el pecho',
    'me duele el pecho',
    'me duele mucho el pecho',
    'presion en el pecho',
    'opresion en el pecho',
    'pecho pesado',
    'pesadez en el pecho',
    'pecho apretado',
    'ataque al corazon',
    'infarto',
  ]),
  es('es.breathing', 'breathing', [
    'no puedo respirar',
    'no puede respirar',
    'sin poder respirar',
    'no puedo respirar bien',
    'me falta el aire',
    'le falta el aire',
    'falta de aire',
    'me ahogo',
    'se ahoga',
    'me estoy ahogando',
    'dificultad para respirar',
    'problemas para respirar',
    'cuesta respirar',
    'labios morados',
  ]),
  es('es.suicide', 'suicide', [
    'suicid*',
    'quiero morir*',
    'me quiero morir',
    'quisiera morirme',
    'matarme',
    'quitarme la vida',
    'no quiero vivir',
    'no quiero seguir viviendo',
    'hacerme dano',
    'lastimarme',
    'mejor muerto',
    'mejor muerta',
  ]),
  es('es.stroke', 'stroke', [
    'se me cae la cara',
    'se le cae la cara',
    'cara caida',
    'cara torcida',
    'boca torcida',
    'lado de la cara',
    'habla arrastrada',
    'arrastr* las palabras',
    'no puede hablar bien',
    'no puedo hablar bien',
    'no puedo mover el brazo',
    'no puede mover el brazo',
    'un lado del cuerpo',
    'derrame cerebral',
    'embolia',
  ]),
  es('es.bleeding', 'bleeding', [
    'sangrado abundante',
    'sangrado fuerte',
    'sangrado muy fuerte',
    'sangra mucho',
    'sangrando mucho',
    'no para de sangrar',
    'no deja de sangrar',
    'hemorragia',
    'vomitando sangre',
    'tosiendo sangre',
    'mucha sangre',
  ]),
  es('es.overdose', 'overdose', ['sobredosis', 'tome muchas pastillas', 'se tomo muchas pastillas']),
  es('es.anaphylaxis', 'anaphylaxis', ['se me cierra la garganta', 'se le cierra la garganta', 'anafila*']),
  es('es.unresponsive', 'unresponsive', ['se desmayo', 'inconsciente', 'no responde', 'convulsion*', 'no despierta']),
];

export const defaultRedFlagConfig: RedFlagConfig = {
  terms: [...defaultRedFlagTerms],
  negationCues: [
    'no',
    'not',
    'never',
    'denies',
    'denied',
    'deny',
    'without',
    'dont',
    'doesnt',
    'didnt',
    'isnt',
    'wasnt',
    'arent',
    'havent',
    'hasnt',
    'hadnt',
    'nor',
    'negative',
    'sin',
    'nunca',
    'niega',
    'niego',
    'nego',
    'tampoco',
    'ni',
    'jamas',
  ],
  uncertaintyCues: [
    'not sure',
    "don't know",
    'unsure',
    'maybe',
    'might be',
    'no se si',
    'no estoy segur*',
    'tal vez',
    'quiza*',
    'a lo mejor',
    'like this',
    'like that',
    'this bad',
    'so bad',
    'before',
    'until now',
    'como este',
    'como esta',
    'asi',
    'tan fuerte',
    'hasta ahora',
    'antes',
  ],
  resolutionCues: [
    'stopped',
    'went away',
    'resolved',
    'last year',
    'years ago',
    'in the past',
    'se quito',
    'se detuvo',
    'ya paro',
    'se paro',
    'ya paso',
    'el ano pasado',
    'hace anos',
    'desaparecio',
  ],
  scopeTerminators: ['and', 'but', 'now', 'today', 'again', 'y', 'pero', 'ahora', 'hoy', 'otra'],
  negationWindow: 3,
  queue: 'clinical-escalation',
  category: 'care-coordination',
  priority: 'urgent',
};

export interface RedFlagMatch {
  termId: string;
  kind: RedFlagKind;
  phrase: string;
  /** Offset and length in the normalised text, for highlighting. */
  index: number;
  length: number;
}

export interface DismissedRedFlag extends RedFlagMatch {
  reason: 'negated' | 'resolved';
}

export interface SafetyPrompt {
  language: SupportedLanguage;
  text: string;
}

export interface RedFlagResult {
  flagged: boolean;
  matches: RedFlagMatch[];
  /** Mentions that were dismissed, kept so a supervisor can audit the detector. */
  dismissed: DismissedRedFlag[];
  kinds: RedFlagKind[];
  /** Present when flagged: what routing must do. */
  action?: { priority: TicketPriority; queue: string; category: TicketCategory };
  /** Present when flagged: script for the agent UI in the message's language. */
  safetyPrompt?: SafetyPrompt;
}

const emergencyPrompt: Record<SupportedLanguage, string> = {
  en:
    'This message may describe a medical emergency. Tell the patient: "If you have chest pain, trouble ' +
    'breathing, signs of a stroke (face drooping, arm weakness, slurred speech) or heavy bleeding, hang up ' +
    'and call 911 now, or go to the nearest emergency room." Then transfer to the clinical team.',
  es:
    'Este mensaje puede describir una emergencia médica. Diga al paciente: "Si tiene dolor de pecho, ' +
    'dificultad para respirar, señales de un derrame cerebral (cara caída, debilidad en un brazo, dificultad ' +
    'para hablar) o sangrado abundante, cuelgue y llame al 911 ahora, o vaya a la sala de emergencias más ' +
    'cercana." Luego transfiera al equipo clínico.',
};

const crisisPrompt: Record<SupportedLanguage, string> = {
  en:
    'This message may describe thoughts of suicide or self-harm. Stay with the patient and say: "You are ' +
    'not alone. Please call or text 988, the Suicide & Crisis Lifeline, any time, day or night. If you are ' +
    'in immediate danger, call 911." Then transfer to the clinical team without ending the contact.',
  es:
    'Este mensaje puede describir pensamientos de suicidio o de hacerse daño. Permanezca con el paciente y ' +
    'diga: "No está solo. Llame o envíe un texto al 988, la Línea de Prevención del Suicidio y Crisis (oprima ' +
    '2 para español), a cualquier hora. Si está en peligro inmediato, llame al 911." Luego transfiera al ' +
    'equipo clínico sin terminar el contacto.',
};

/** Agent script for the kinds found; crisis wording comes first when suicide is among them. */
export function safetyPromptFor(kinds: readonly RedFlagKind[], language: SupportedLanguage): SafetyPrompt {
  const parts: string[] = [];
  if (kinds.includes('suicide')) parts.push(crisisPrompt[language]);
  if (kinds.some((k) => k !== 'suicide')) parts.push(emergencyPrompt[language]);
  return { language, text: parts.join('\n\n') };
}

const clauseBoundary = /[.!?;:\n,]|\b(?:but|however|although|though|pero|aunque|sino)\b/g;

function tokens(s: string): string[] {
  return s.replace(/'/g, '').match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** A compiled detector; build once per tenant configuration. */
export class RedFlagDetector {
  readonly #config: RedFlagConfig;
  readonly #terms: { term: RedFlagTerm; set: KeywordSet }[];
  readonly #negation: Set<string>;
  readonly #terminators: Set<string>;
  readonly #uncertainty: KeywordSet;
  readonly #resolution: KeywordSet;

  constructor(config: RedFlagConfig = defaultRedFlagConfig) {
    this.#config = config;
    this.#terms = config.terms.map((term) => ({ term, set: new KeywordSet(term.phrases) }));
    this.#negation = new Set(config.negationCues.map((c) => normaliseText(c).replace(/'/g, '')));
    this.#terminators = new Set(config.scopeTerminators.map(normaliseText));
    this.#uncertainty = new KeywordSet(config.uncertaintyCues);
    this.#resolution = new KeywordSet(config.resolutionCues);
  }

  /**
   * Scan a message. `language` picks the safety script's language (e.g. the patient's preferred
   * language); by default it follows the message.
   */
  detect(text: string, options: { language?: SupportedLanguage } = {}): RedFlagResult {
    const normalised = normaliseText(text);
    const matches: RedFlagMatch[] = [];
    const dismissed: DismissedRedFlag[] = [];
    // All languages are scanned whatever the message language: mixed-language messages are common.
    for (const { term, set } of this.#terms) {
      for (const hit of set.find(normalised)) {
        const match: RedFlagMatch = {
          termId: term.id,
          kind: term.kind,
          phrase: hit.keyword,
          index: hit.index,
          length: hit.length,
        };
        const reason = this.#dismissal(normalised, hit.index, hit.index + hit.length);
        if (reason) dismissed.push({ ...match, reason });
        else matches.push(match);
      }
    }
    // A phrase inside another flagged phrase of the same kind ("suicid*" in both the EN and ES
    // lists, "no puedo respirar" within "no puedo respirar bien") is one mention.
    const distinct = matches.filter(
      (m, i) =>
        !matches.some(
          (o, j) =>
            j !== i &&
            o.kind === m.kind &&
            o.index <= m.index &&
            o.index + o.length >= m.index + m.length &&
            (o.length > m.length || j < i),
        ),
    );
    matches.length = 0;
    matches.push(...distinct.sort((a, b) => a.index - b.index));
    const kinds = [...new Set(matches.map((m) => m.kind))];
    const result: RedFlagResult = { flagged: matches.length > 0, matches, dismissed, kinds };
    if (result.flagged) {
      const language: SupportedLanguage = options.language ?? (detectLanguage(text).language === 'es' ? 'es' : 'en');
      result.action = { priority: this.#config.priority, queue: this.#config.queue, category: this.#config.category };
      result.safetyPrompt = safetyPromptFor(kinds, language);
    }
    return result;
  }

  #clause(text: string, start: number, end: number): { before: string; after: string } {
    let clauseStart = 0;
    let clauseEnd = text.length;
    for (const m of text.matchAll(clauseBoundary)) {
      const at = m.index ?? 0;
      if (at + m[0].length <= start) clauseStart = at + m[0].length;
      else if (at >= end) {
        clauseEnd = at;
        break;
      }
    }
    return { before: text.slice(clauseStart, start), after: text.slice(end, clauseEnd) };
  }

  #dismissal(text: string, start: number, end: number): DismissedRedFlag['reason'] | undefined {
    const { before, after } = this.#clause(text, start, end);
    const clause = `${before} ${text.slice(start, end)} ${after}`;
    // Unsure wording anywhere in the clause keeps the flag (conservative by design).
    if (this.#uncertainty.matchedKeywords(clause).length > 0) return undefined;

    // A phrase that itself starts with a negation ("no puedo respirar") is not negated by a repeat.
    const firstToken = tokens(text.slice(start, end))[0] ?? '';
    const prior = this.#negation.has(firstToken) ? [] : tokens(before);
    const window = prior.slice(-this.#config.negationWindow - 1);
    for (let i = window.length - 1; i >= 0; i--) {
      const tok = window[i] ?? '';
      if (this.#terminators.has(tok)) break;
      if (this.#negation.has(tok)) return 'negated';
    }

    const resolutions = this.#resolution.find(after);
    // "hasn't stopped (since last year)" / "no se quitó" are the opposite of resolved: one negated
    // resolution cue keeps the whole clause flagged.
    const negatedResolution = resolutions.some((hit) => {
      const preceding = tokens(after.slice(0, hit.index)).at(-1);
      return preceding !== undefined && this.#negation.has(preceding);
    });
    return resolutions.length > 0 && !negatedResolution ? 'resolved' : undefined;
  }
}

const defaultDetector = new RedFlagDetector();

/** Detect red flags with the default EN/ES configuration. */
export function detectRedFlags(text: string): RedFlagResult {
  return defaultDetector.detect(text);
}
