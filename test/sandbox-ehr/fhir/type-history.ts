// GET [base]/[type]/_history (R4 http.html#history), which the library's router lacks: every version
// and every delete of the type, newest first (deletes as entries with `request.method` DELETE and no
// resource), `_since` and `_count`/`_offset` paging with absolute links.
import { allOk, badRequest } from '@medplum/core';
import type { FhirRequest, FhirResponse, FhirRouter } from '@medplum/fhir-router';
import type { Bundle as MedplumBundle } from '@medplum/fhirtypes';
import type { SandboxContext } from '../context';
import { SandboxRepository } from './sandbox-repository';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

export function addTypeHistoryRoute(router: FhirRouter, ctx: SandboxContext): void {
  router.add(
    'GET',
    ':resourceType/_history',
    async (req: FhirRequest, repo): Promise<FhirResponse> => {
      if (!(repo instanceof SandboxRepository)) return [badRequest('Type history is not available')];
      const { resourceType } = req.params as { resourceType: string };
      const since = single(req.query._since);
      const sinceInstant = since === undefined ? undefined : Date.parse(since);
      const countParam = single(req.query._count) ?? String(ctx.options.pageSizeDefault);
      const offsetParam = single(req.query._offset) ?? '0';
      if (
        (sinceInstant !== undefined && Number.isNaN(sinceInstant)) ||
        !/^\d+$/.test(countParam) ||
        !/^\d+$/.test(offsetParam)
      ) {
        return [badRequest('Invalid _since, _count or _offset')];
      }
      const count = Math.min(Number(countParam), ctx.options.pageSizeMax);
      const offset = Number(offsetParam);
      const versions = repo.typeHistory(
        resourceType,
        sinceInstant === undefined ? undefined : new Date(sinceInstant).toISOString(),
      );
      const pageUrl = (pageOffset: number): string => {
        const params = new URLSearchParams({ _count: String(count), _offset: String(pageOffset) });
        if (since !== undefined) params.set('_since', since);
        return `${ctx.fhirBaseUrl}/${resourceType}/_history?${params.toString()}`;
      };
      const link = [{ relation: 'self', url: pageUrl(offset) }];
      if (count > 0 && offset + count < versions.length) link.push({ relation: 'next', url: pageUrl(offset + count) });
      const bundle = {
        resourceType: 'Bundle',
        type: 'history',
        total: versions.length,
        link,
        // Versions get their fullUrl with the other answers; a delete has only its request URL to go by.
        entry: versions
          .slice(offset, offset + count)
          .map((entry) => (entry.resource ? entry : { fullUrl: `${ctx.fhirBaseUrl}/${entry.request.url}`, ...entry })),
      } as MedplumBundle;
      return [allOk, bundle];
    },
    'history-type',
  );
}
