// Normalising phone numbers and email addresses so an inbound SMS or email can be matched to a
// patient's Patient.telecom. Results are for matching only; never log them (HIPAA-11).

export interface PhoneOptions {
  /** Country calling code assumed for national numbers; North America by default. */
  defaultCountryCode?: string;
}

/**
 * E.164-ish form (`+15551234567`) or null when the input cannot be a reachable phone number.
 * Handles punctuation, `tel:` URIs, extensions (`x12`, `ext. 12`, `#12`), `00`/`011` international
 * prefixes, and NANP numbers with or without the leading 1. Not a full numbering-plan validator.
 */
export function normalisePhone(raw: string, options: PhoneOptions = {}): string | null {
  const cc = options.defaultCountryCode ?? '1';
  let s = raw.trim().replace(/^tel:/i, '');
  s = s.replace(/\s*(?:;ext=|ext\.?|x|#).*$/i, '');
  if (/[A-Za-z]/.test(s)) return null;
  const international = s.startsWith('+');
  let digits = s.replace(/\D/g, '');
  if (!international) {
    if (digits.startsWith('011') && cc === '1') return e164(digits.slice(3));
    if (digits.startsWith('00')) return e164(digits.slice(2));
    if (cc === '1') {
      if (digits.length === 11 && digits.startsWith('1')) digits = digits.slice(1);
      return digits.length === 10 && nanpValid(digits) ? `+1${digits}` : null;
    }
    return e164(`${cc}${digits.replace(/^0/, '')}`);
  }
  if (digits.startsWith('1')) return digits.length === 11 && nanpValid(digits.slice(1)) ? `+${digits}` : null;
  return e164(digits);
}

function e164(digits: string): string | null {
  // E.164: at most 15 digits, country code never starts with 0; 8 is a practical minimum.
  return /^[1-9]\d{7,14}$/.test(digits) ? `+${digits}` : null;
}

// NANP: area code and exchange both start with 2–9.
function nanpValid(ten: string): boolean {
  return /^[2-9]\d{2}[2-9]\d{6}$/.test(ten);
}

export interface EmailOptions {
  /** Drop `+tag` from the local part (`ana+portal@x` → `ana@x`). Off by default: tags can be meaningful. */
  stripPlusTag?: boolean;
}

/**
 * Lower-cased bare address from `Ana <Ana@Example.ORG>`, `mailto:…` or a bare address; null when
 * it is not a plausible address. Local parts are treated case-insensitively, as every major
 * provider does, although RFC 5321 §2.4 allows otherwise.
 */
export function normaliseEmail(raw: string, options: EmailOptions = {}): string | null {
  let s = raw.trim();
  const angle = /<([^<>]+)>\s*$/.exec(s);
  if (angle?.[1]) s = angle[1];
  s = s
    .replace(/^mailto:/i, '')
    .trim()
    .toLowerCase();
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1 || s.length > 254) return null;
  let local = s.slice(0, at);
  const domain = s.slice(at + 1).replace(/\.$/, '');
  if (!/^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/.test(local) || local.startsWith('.') || local.includes('..')) return null;
  // Labels of letters/digits/hyphens; internationalised (U-label) domains are allowed as typed.
  if (
    !/^(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}]{2,63}$|^(?:[a-z0-9-]+\.)+xn--[a-z0-9-]+$/u.test(
      domain,
    )
  )
    return null;
  if (options.stripPlusTag) local = local.split('+')[0] ?? local;
  return `${local}@${domain}`;
}
