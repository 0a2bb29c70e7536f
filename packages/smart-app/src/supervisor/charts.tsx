// Inline-SVG bar charts (no chart library). Each chart is an <svg role="img"> whose aria-label reads
// out every value, followed by the same numbers as a table: the text alternative for every reader.

export interface Bar {
  label: string;
  value: number | null;
  /** How the value reads (e.g. "95%", "1 h 5 min"); defaults to the number. */
  display?: string;
}

const ROW = 26;
const LABEL_W = 150;
const BAR_W = 200;

export function BarChart(props: { id: string; title: string; bars: Bar[]; max?: number; unit?: string }) {
  const { id, title, bars } = props;
  const shown = (b: Bar) => b.display ?? (b.value === null ? 'no data' : String(b.value));
  const max = props.max ?? Math.max(1, ...bars.map((b) => b.value ?? 0));
  const height = Math.max(1, bars.length) * ROW + 4;
  const summary = bars.length === 0 ? 'no data' : bars.map((b) => `${b.label} ${shown(b)}`).join(', ');
  return (
    <figure class="chart" id={id} aria-labelledby={`${id}-t`}>
      <figcaption id={`${id}-t`}>{title}</figcaption>
      <svg
        role="img"
        aria-label={`${title}: ${summary}`}
        viewBox={`0 0 ${LABEL_W + BAR_W + 90} ${height}`}
        width="100%"
        preserveAspectRatio="xMinYMin meet"
      >
        {bars.map((b, i) => {
          const w = b.value === null ? 0 : Math.max(b.value > 0 ? 2 : 0, (Math.max(0, b.value) / max) * BAR_W);
          const y = i * ROW + 4;
          return (
            <g key={b.label}>
              <text x={LABEL_W - 6} y={y + 15} text-anchor="end" class="chart-label">
                {b.label}
              </text>
              <rect x={LABEL_W} y={y} width={w} height={ROW - 8} class="chart-bar" />
              <text x={LABEL_W + w + 6} y={y + 15} class="chart-value">
                {shown(b)}
              </text>
            </g>
          );
        })}
      </svg>
      <table class="chart-data">
        <caption class="visually-hidden">{title} (figures)</caption>
        <tbody>
          {bars.map((b) => (
            <tr key={b.label}>
              <th scope="row">{b.label}</th>
              <td data-value={b.value === null ? '' : String(b.value)}>{shown(b)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** "1 h 5 min", "12 min", "40 s"; null → "no data". */
export function duration(seconds: number | null): string {
  if (seconds === null) return 'no data';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  return `${Math.round(h / 24)} d`;
}

/** Rate 0..1 → "83%"; null → "no data". */
export function percent(rate: number | null): string {
  return rate === null ? 'no data' : `${Math.round(rate * 100)}%`;
}
