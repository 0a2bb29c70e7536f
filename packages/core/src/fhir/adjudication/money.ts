// Money without float drift (STANDARDS VIEW-03): amounts are carried as exact integers of micro-units
// (1e-6) while summing and rounded to the currency's minor unit only at the end.

/** An amount ready to show or store: rounded to the currency's minor unit, never a float sum. */
export interface Money {
  /** Decimal string with the currency's minor digits, e.g. `"508.14"`, `"-3.10"`. */
  readonly value: string;
  /** Integer count of minor units (cents for USD). */
  readonly minor: number;
  readonly currency: string;
}

/** Exact amount in micro-units (1e-6 of the major unit). Internal arithmetic type. */
export type Micro = bigint;

const MICRO_DIGITS = 6;
const MICRO = 10n ** BigInt(MICRO_DIGITS);

/**
 * Converts a published amount (a JSON number such as 508.14400000000006, or a decimal string from an
 * 835) to exact micro-units. Floats are first cut to 15 significant digits, which removes the
 * binary-representation noise that `0.1 + 0.2`-style values carry, then rounded half away from zero.
 */
export function toMicro(value: number | string): Micro {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError('amount is not a finite number');
    text = Number(value.toPrecision(15)).toFixed(MICRO_DIGITS + 2);
  } else {
    text = value.trim();
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) throw new RangeError('amount is not a decimal number');
  }
  return roundDecimalString(text, MICRO_DIGITS);
}

/** Rounds a plain decimal string to `digits` fraction digits (half away from zero), as a scaled bigint. */
function roundDecimalString(text: string, digits: number): bigint {
  const negative = text.startsWith('-');
  const unsigned = text.replace(/^[+-]/, '');
  const [whole = '0', fraction = ''] = unsigned.split('.');
  const kept = (fraction + '0'.repeat(digits + 1)).slice(0, digits + 1);
  let scaled = BigInt((whole || '0') + kept.slice(0, digits));
  if (Number(kept[digits]) >= 5) scaled += 1n;
  return negative ? -scaled : scaled;
}

const minorDigitsCache = new Map<string, number>();

/** Number of minor-unit digits of an ISO 4217 currency (USD → 2, JPY → 0); 2 when unknown. */
export function minorDigits(currency: string): number {
  // Cached: building an Intl.NumberFormat costs ~70 µs and this runs for every amount of every claim view.
  const cached = minorDigitsCache.get(currency);
  if (cached !== undefined) return cached;
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // Unknown or malformed currency code: keep 2.
  }
  if (minorDigitsCache.size < 1000) minorDigitsCache.set(currency, digits);
  return digits;
}

function divRoundHalfAway(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice >= d) return n < 0n ? q - 1n : q + 1n;
  return q;
}

/** Rounds exact micro-units to the currency's minor unit and renders them as Money. */
export function toMoney(micro: Micro, currency: string): Money {
  const digits = minorDigits(currency);
  const minor = divRoundHalfAway(micro, 10n ** BigInt(MICRO_DIGITS - digits));
  const negative = minor < 0n;
  const abs = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  const whole = abs.slice(0, abs.length - digits);
  const fraction = abs.slice(abs.length - digits);
  const value = `${negative ? '-' : ''}${whole}${digits > 0 ? `.${fraction}` : ''}`;
  return { value, minor: Number(minor), currency };
}

/** Micro-units of a Money value (exact, since Money is already rounded). */
export function moneyToMicro(money: Money): Micro {
  return toMicro(money.value);
}

/** Exact sum of published amounts, rounded once at the end. */
export function sumAmounts(values: ReadonlyArray<number | string>, currency: string): Money {
  return toMoney(
    values.reduce<Micro>((acc, v) => acc + toMicro(v), 0n),
    currency,
  );
}

/** Adds Money values of one currency; throws on a currency mix (a caller bug, never silently converted). */
export function addMoney(currency: string, ...values: ReadonlyArray<Money | undefined>): Money {
  let total = 0n;
  for (const v of values) {
    if (!v) continue;
    if (v.currency !== currency) throw new RangeError('cannot add amounts in different currencies');
    total += moneyToMicro(v);
  }
  return toMoney(total, currency);
}

/** Rounds micro-units to whole minor units and back, so comparisons happen at cent precision. */
export function roundMicro(micro: Micro, currency: string): Micro {
  return moneyToMicro(toMoney(micro, currency));
}

/** `$1,234.50` style text for people (explanations); the locale defaults to en-US. */
export function formatMoney(money: Money, locale = 'en-US'): string {
  const digits = minorDigits(money.currency);
  try {
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: money.currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(Number(money.value));
  } catch {
    return `${money.value} ${money.currency}`;
  }
}

export const MICRO_PER_UNIT: Micro = MICRO;
