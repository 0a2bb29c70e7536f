import { describe, expect, it } from 'vitest';
import { addMoney, formatMoney, sumAmounts, toMicro, toMoney } from './money';

describe('money (VIEW-03)', () => {
  it('rounds a raw Synthea float to cents without float noise', () => {
    expect(toMoney(toMicro(508.14400000000006), 'USD')).toEqual({ value: '508.14', minor: 50814, currency: 'USD' });
  });

  it('sums floats exactly and rounds once at the end', () => {
    expect(sumAmounts([0.1, 0.2], 'USD').value).toBe('0.30');
    // Two half-cents: rounding each first would give 0.00 + 0.00, the exact sum is one cent.
    expect(sumAmounts([0.004, 0.004, 0.002], 'USD').value).toBe('0.01');
    expect(sumAmounts([28.104000000000003, 112.41600000000001], 'USD').value).toBe('140.52');
  });

  it('reads decimal strings as published in an 835', () => {
    expect(toMoney(toMicro('1234.5'), 'USD').value).toBe('1234.50');
    expect(toMoney(toMicro('-0.005'), 'USD').value).toBe('-0.01');
    expect(() => toMicro('12,00')).toThrow(RangeError);
  });

  it('uses the currency minor unit (JPY has none)', () => {
    expect(toMoney(toMicro(1234.5), 'JPY')).toEqual({ value: '1235', minor: 1235, currency: 'JPY' });
  });

  it('refuses to add amounts of different currencies', () => {
    const usd = toMoney(toMicro(1), 'USD');
    const eur = toMoney(toMicro(1), 'EUR');
    expect(addMoney('USD', usd, usd).value).toBe('2.00');
    expect(() => addMoney('USD', usd, eur)).toThrow(RangeError);
  });

  it('formats for people', () => {
    expect(formatMoney(toMoney(toMicro(1234.5), 'USD'))).toBe('$1,234.50');
  });
});
