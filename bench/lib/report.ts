// Benchmark output: each figure beside a baseline measured in the same run and their ratio, because
// the machines are shared and noisy and only same-run ratios compare across runs (issue #2).

export interface Row {
  figure: string;
  value: number;
  unit: string;
  /** What the figure is compared with; omit for figures without a same-run baseline. */
  baseline?: { label: string; value: number } | undefined;
  /** Human-readable target, e.g. `ratio ≥ 0.40` or `< 20 ms`. */
  target?: string | undefined;
  /** Whether the target is met; omit when there is no target. */
  pass?: boolean | undefined;
}

/** value ÷ baseline, or NaN when the baseline is zero or missing. */
export function ratio(value: number, baseline: number): number {
  return baseline > 0 && Number.isFinite(baseline) ? value / baseline : Number.NaN;
}

export function formatNumber(value: number, digits = value >= 100 ? 0 : value >= 10 ? 1 : 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** A fixed-width table: figure | value | baseline | ratio | target. */
export function formatTable(rows: readonly Row[]): string {
  const header = ['figure', 'fhirdesk', 'baseline (same run)', 'ratio', 'target'];
  const lines = rows.map((r) => [
    r.figure,
    `${formatNumber(r.value)} ${r.unit}`,
    r.baseline ? `${formatNumber(r.baseline.value)} ${r.unit} ${r.baseline.label}` : '—',
    r.baseline ? `${formatNumber(ratio(r.value, r.baseline.value), 2)}×` : '—',
    r.target ? `${r.target} ${r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL'}`.trim() : '—',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [fmt(header), widths.map((w) => '─'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n');
}

/** Rounds figures for the machine-readable last line (3 significant decimals are plenty on noisy machines). */
export function round(value: number, decimals = 3): number {
  const f = 10 ** decimals;
  return Number.isFinite(value) ? Math.round(value * f) / f : Number.NaN;
}
