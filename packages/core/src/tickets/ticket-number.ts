/** Human ticket number as shown to agents and patients: `T-1042`. */
export function formatTicketNumber(n: number): string {
  return `T-${n}`;
}

export function parseTicketNumber(text: string): number | null {
  const m = /^T-(\d{1,9})$/i.exec(text.trim());
  return m ? Number(m[1]) : null;
}
