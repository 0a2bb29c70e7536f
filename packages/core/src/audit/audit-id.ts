// Ids of audit rows.
import { v7 } from 'uuid';

/**
 * A UUIDv7 (RFC 9562): time-ordered, so a new row's primary-key entry lands at the right edge of the index.
 * Random (v4) ids put every audited read's entry, and every seal's, on a random leaf page: after each
 * checkpoint each such page costs a full-page image in the WAL (2,000 rows sealed after a checkpoint wrote
 * 15 MB of WAL and took 1.8x as long; bench:agent-view, issue #4). The time it carries is in the row anyway
 * (`occurred_at`). Uniqueness and the hash chain do not depend on the id's version.
 */
export function newAuditId(): string {
  return v7();
}
