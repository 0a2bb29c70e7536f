// Tenant-supplied regular expressions: validated on save and run with a time budget at evaluation,
// because a catastrophic pattern such as `(a+)+$` would otherwise block the event loop (ReDoS).
import vm from 'node:vm';

export const maxRegexLength = 200;
/** Inputs are cut to this many characters before a tenant regex sees them. */
export const maxRegexInputLength = 10_000;
const defaultBudgetMs = 25;

export type RegexProblem = 'too-long' | 'invalid-syntax' | 'backreference' | 'nested-quantifier' | 'too-slow';

export interface RegexValidation {
  ok: boolean;
  problem?: RegexProblem;
  message?: string;
}

// A quantified group whose body itself contains a quantifier (star height > 1) is the classic
// exponential shape; we reject it statically rather than trying to prove it safe.
function hasNestedQuantifier(source: string): boolean {
  const stack: boolean[] = [];
  let quantifiedInside = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '[') {
      // skip a character class
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      continue;
    }
    if (ch === '(') {
      stack.push(quantifiedInside);
      quantifiedInside = false;
      continue;
    }
    if (ch === ')') {
      const inner: boolean = quantifiedInside;
      const next = source[i + 1];
      const groupQuantified = next === '*' || next === '+' || next === '?' || next === '{';
      if (groupQuantified && inner && next !== '?') return true;
      quantifiedInside = (stack.pop() ?? false) || inner || groupQuantified;
      continue;
    }
    if (ch === '*' || ch === '+' || ch === '{') quantifiedInside = true;
  }
  return false;
}

const probes = [
  `${'a'.repeat(3000)}!`,
  `${'a '.repeat(1500)}!`,
  `${'1'.repeat(3000)}x`,
  `${'\u00e1'.repeat(2000)}!`,
  `${'ab'.repeat(1500)}!`,
];

const context = vm.createContext({});
const runner = new vm.Script('re.lastIndex = 0; re.test(input)');

/** Test `re` against `input` with a wall-clock budget; `undefined` means the budget ran out. */
export function testWithBudget(re: RegExp, input: string, budgetMs = defaultBudgetMs): boolean | undefined {
  const clipped = input.length > maxRegexInputLength ? input.slice(0, maxRegexInputLength) : input;
  context.re = re;
  context.input = clipped;
  try {
    return runner.runInContext(context, { timeout: budgetMs }) === true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return undefined;
    throw err;
  } finally {
    context.re = undefined;
    context.input = undefined;
  }
}

/** Compile a tenant pattern with the flags rules always use (case-insensitive, Unicode). */
export function compileTenantRegex(source: string): RegExp {
  return new RegExp(source, 'iu');
}

/** Validate a tenant regex for saving. Messages describe the pattern problem, never the text. */
export function validateTenantRegex(source: string): RegexValidation {
  if (source.length > maxRegexLength) {
    return { ok: false, problem: 'too-long', message: `pattern is longer than ${maxRegexLength} characters` };
  }
  let re: RegExp;
  try {
    re = compileTenantRegex(source);
  } catch (err) {
    return { ok: false, problem: 'invalid-syntax', message: `invalid regular expression: ${(err as Error).message}` };
  }
  if (/\\[1-9]|\\k</.test(source)) {
    return { ok: false, problem: 'backreference', message: 'backreferences are not allowed' };
  }
  if (hasNestedQuantifier(source)) {
    return {
      ok: false,
      problem: 'nested-quantifier',
      message: 'nested quantifiers such as (a+)+ can take exponential time and are not allowed',
    };
  }
  for (const probe of probes) {
    // A wall-clock budget can run out on a busy machine for an ordinary pattern too; only a pattern that
    // also blows a tenfold budget is refused (catastrophic ones take seconds, not milliseconds).
    if (testWithBudget(re, probe, 50) === undefined && testWithBudget(re, probe, 500) === undefined) {
      return { ok: false, problem: 'too-slow', message: 'pattern takes too long on long inputs' };
    }
  }
  return { ok: true };
}
