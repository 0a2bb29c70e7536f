// Locale-aware display of money, dates and codes (the agent's browser locale).
export interface Money {
  value: string;
  minor?: number;
  currency: string;
}

const locale = (): string => navigator.language || 'en-US';

export function money(m: Money | null | undefined): string {
  if (!m) return '—';
  try {
    return new Intl.NumberFormat(locale(), { style: 'currency', currency: m.currency }).format(Number(m.value));
  } catch {
    return `${m.value} ${m.currency}`;
  }
}

export function date(value: string | null | undefined): string {
  if (!value) return '—';
  const d = new Date(value.length === 10 ? `${value}T00:00:00` : value);
  if (Number.isNaN(d.getTime())) return value;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(d);
}

export function age(seconds: number): string {
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  if (seconds < 3600) return rtf.format(-Math.round(seconds / 60), 'minute');
  if (seconds < 86400) return rtf.format(-Math.round(seconds / 3600), 'hour');
  return rtf.format(-Math.round(seconds / 86400), 'day');
}

export function label(code: string | null | undefined): string {
  if (!code) return '—';
  return code.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());
}
