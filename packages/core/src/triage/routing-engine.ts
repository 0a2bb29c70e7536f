// Evaluates a tenant's routing rules in order over an inbound message. Every decided field names
// the rule that set it so the timeline can explain "why is this in the billing queue".
import type { LinkableResourceType, TicketCategory, TicketChannel, TicketPriority } from '../db/schema/enums';
import { detectLanguage, type LanguageGuess } from './language';
import type { RoutingField, RoutingRule } from './routing-rule';
import { compileTenantRegex, testWithBudget } from './safe-regex';
import { KeywordSet, normaliseText } from './text';

export interface TriageInput {
  channel: TicketChannel;
  subject?: string;
  body: string;
  patient?: {
    /** BCP 47 tag from Patient.communication (preferred) if known. */
    language?: string;
    /** Payer names/identifiers of the patient's active coverages. */
    coveragePayers?: readonly string[];
  };
  linkedResourceTypes?: readonly LinkableResourceType[];
}

export interface RoutingFields {
  category?: TicketCategory;
  queue?: string;
  priority?: TicketPriority;
  language?: string;
  assignee?: string;
  team?: string;
}

export interface RoutingWarning {
  ruleId: string;
  problem: 'regex-timeout';
}

export interface RoutingDecision extends RoutingFields {
  /** Ids of every rule whose condition matched, in evaluation order. */
  matchedRuleIds: string[];
  /** For each decided field, the id of the rule (or `default`) that set it. */
  setBy: Partial<Record<RoutingField, string>>;
  detectedLanguage: LanguageGuess;
  warnings: RoutingWarning[];
}

interface CompiledRule {
  rule: RoutingRule;
  any?: KeywordSet;
  all?: KeywordSet;
  none?: KeywordSet;
  regex?: RegExp;
}

const routingFields: readonly RoutingField[] = ['category', 'queue', 'priority', 'language', 'assignee', 'team'];

function primaryTag(tag: string): string {
  return tag.toLowerCase().split(/[-_]/)[0] ?? '';
}

export interface RouterOptions {
  /** Values for fields no rule set; reported with `setBy[field] = 'default'`. */
  defaults?: RoutingFields;
}

/** A compiled, reusable router for one tenant's rules (compile once, route many). */
export class Router {
  readonly #rules: CompiledRule[];
  readonly #defaults: RoutingFields;

  constructor(rules: readonly RoutingRule[], options: RouterOptions = {}) {
    this.#defaults = options.defaults ?? {};
    this.#rules = rules
      .filter((rule) => rule.enabled)
      .map((rule) => {
        const t = rule.when.text;
        return {
          rule,
          any: t?.any ? new KeywordSet(t.any) : undefined,
          all: t?.all ? new KeywordSet(t.all) : undefined,
          none: t?.none ? new KeywordSet(t.none) : undefined,
          regex: t?.regex ? compileTenantRegex(t.regex) : undefined,
        };
      });
  }

  route(input: TriageInput): RoutingDecision {
    const raw = input.subject ? `${input.subject}\n${input.body}` : input.body;
    const text = normaliseText(raw);
    const detectedLanguage = detectLanguage(raw);
    const decision: RoutingDecision = { matchedRuleIds: [], setBy: {}, detectedLanguage, warnings: [] };

    for (const compiled of this.#rules) {
      const verdict = this.#matches(compiled, input, raw, text, detectedLanguage);
      if (verdict === 'timeout') {
        decision.warnings.push({ ruleId: compiled.rule.id, problem: 'regex-timeout' });
        continue;
      }
      if (!verdict) continue;
      decision.matchedRuleIds.push(compiled.rule.id);
      for (const field of routingFields) {
        const value = compiled.rule.set[field];
        if (value !== undefined && decision[field] === undefined) {
          (decision as RoutingFields)[field] = value as never;
          decision.setBy[field] = compiled.rule.id;
        }
      }
      if (!compiled.rule.continue) break;
    }

    for (const field of routingFields) {
      const value = this.#defaults[field];
      if (value !== undefined && decision[field] === undefined) {
        (decision as RoutingFields)[field] = value as never;
        decision.setBy[field] = 'default';
      }
    }
    return decision;
  }

  #matches(c: CompiledRule, input: TriageInput, raw: string, text: string, lang: LanguageGuess): boolean | 'timeout' {
    const when = c.rule.when;
    if (when.channels && !when.channels.includes(input.channel)) return false;
    if (when.messageLanguages && !when.messageLanguages.includes(lang.language)) return false;
    if (when.patient?.languages) {
      const tag = input.patient?.language;
      if (!tag || !when.patient.languages.some((l) => primaryTag(l) === primaryTag(tag))) return false;
    }
    if (when.patient?.payers) {
      const payers = new Set((input.patient?.coveragePayers ?? []).map(normaliseText));
      if (!when.patient.payers.some((p) => payers.has(normaliseText(p)))) return false;
    }
    if (when.linkedResourceTypes) {
      const linked = input.linkedResourceTypes ?? [];
      if (!when.linkedResourceTypes.some((t) => linked.includes(t))) return false;
    }
    if (c.none && c.none.matchedKeywords(text).length > 0) return false;
    if (c.all && c.all.matchedKeywords(text).length < c.all.size) return false;
    if (c.any && c.any.matchedKeywords(text).length === 0) return false;
    if (c.regex) {
      const hit = testWithBudget(c.regex, raw);
      if (hit === undefined) return 'timeout';
      if (!hit) return false;
    }
    return true;
  }
}
