// Bulk Data 2.0 $export (BD2 export.html; STANDARDS §4.6): async kick-off, status polling with
// Retry-After/X-Progress, a manifest and NDJSON files (gzip on request), cancel by DELETE.
// The data is snapshotted at kick-off, so the files match `transactionTime`.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Resource } from 'fhir/r4';
import type { SandboxContext } from '../context';
import { isKnownResourceType } from '../fhir/definitions';
import { FhirHttpError, fhirResponse, operationOutcome } from '../fhir/outcome';
import { inPatientCompartment, isPatientCompartmentType } from './patient-compartment';

export type ExportLevel = { kind: 'system' } | { kind: 'patient' } | { kind: 'group'; id: string };

interface ExportFile {
  type: string;
  count: number;
  body: Buffer;
}

interface ExportJob {
  id: string;
  transactionTime: string;
  request: string;
  pollsRemaining: number;
  pollsTotal: number;
  output: Map<string, ExportFile>;
  deleted: Map<string, ExportFile>;
}

const KNOWN_PARAMS = new Set(['_type', '_since', '_outputFormat']);
const NDJSON_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);
const MANIFEST_LIFETIME_MS = 60 * 60 * 1000;

export class BulkExports {
  private readonly jobs = new Map<string, ExportJob>();

  constructor(private readonly ctx: SandboxContext) {}

  /** BULK-01/02: validates the kick-off, snapshots the data, answers 202 + Content-Location. */
  async kickOff(request: Request, level: ExportLevel): Promise<Response> {
    const prefer = request.headers.get('prefer') ?? '';
    if (!/respond-async/i.test(prefer)) throw FhirHttpError.badRequest('$export requires Prefer: respond-async');
    const lenient = /handling=lenient/i.test(prefer);
    const url = new URL(request.url);
    for (const name of new Set(url.searchParams.keys())) {
      if (!KNOWN_PARAMS.has(name) && !lenient) throw FhirHttpError.badRequest(`Unsupported $export parameter: ${name}`);
    }
    const outputFormat = url.searchParams.get('_outputFormat');
    if (outputFormat && !NDJSON_FORMATS.has(outputFormat)) throw FhirHttpError.badRequest('Unsupported _outputFormat');
    const requestedTypes = url.searchParams
      .getAll('_type')
      .flatMap((value) => value.split(','))
      .map((type) => type.trim())
      .filter(Boolean);
    for (const type of requestedTypes) {
      if (!isKnownResourceType(type)) throw FhirHttpError.badRequest('Unknown resource type in _type');
    }
    const sinceParam = url.searchParams.get('_since');
    const since = sinceParam === null ? undefined : Date.parse(sinceParam);
    if (since !== undefined && Number.isNaN(since)) throw FhirHttpError.badRequest('_since must be a FHIR instant');

    // BD2: transactionTime is the server time at kick-off; the snapshot below is taken at that instant.
    const transactionTime = new Date().toISOString();
    const patients = await this.patientsFor(level);
    const types =
      requestedTypes.length > 0
        ? [...new Set(requestedTypes)]
        : this.ctx.repo.resourceTypes().filter((type) => patients === undefined || isPatientCompartmentType(type));
    const sinceIso = since === undefined ? undefined : new Date(since).toISOString();
    const inScope = (resource: Resource): boolean =>
      patients === undefined ||
      (isPatientCompartmentType(resource.resourceType) && inPatientCompartment(resource, patients));

    const output = new Map<string, ExportFile>();
    for (const type of types) {
      const lines: string[] = [];
      for (const resource of this.ctx.repo.currentResources(type) as Iterable<Resource>) {
        if (sinceIso !== undefined && (resource.meta?.lastUpdated ?? '') <= sinceIso) continue;
        if (!inScope(resource)) continue;
        lines.push(JSON.stringify(resource));
      }
      if (lines.length > 0) output.set(`${type}.ndjson`, ndjsonFile(type, lines));
    }

    // BD2 `deleted[]`: only meaningful for an incremental (`_since`) export.
    const deleted = new Map<string, ExportFile>();
    if (sinceIso !== undefined) {
      const lines = this.ctx.repo.deletions
        .filter(({ resource, deletedAt }) => deletedAt > sinceIso && types.includes(resource.resourceType))
        .filter(({ resource }) => inScope(resource as Resource))
        .map(({ resource }) =>
          JSON.stringify({
            resourceType: 'Bundle',
            type: 'transaction',
            entry: [{ request: { method: 'DELETE', url: `${resource.resourceType}/${resource.id}` } }],
          }),
        );
      if (lines.length > 0) deleted.set('deleted.Bundle.ndjson', ndjsonFile('Bundle', lines));
    }

    const id = randomUUID();
    const polls = this.ctx.options.bulkPollsBeforeReady;
    this.jobs.set(id, {
      id,
      transactionTime,
      request: `${this.ctx.origin}${url.pathname}${url.search}`,
      pollsRemaining: polls,
      pollsTotal: polls,
      output,
      deleted,
    });
    return fhirResponse(operationOutcome('informational', 'Export accepted', 'information'), 202, {
      'Content-Location': this.statusUrl(id),
    });
  }

  /** BULK-03/04: 202 + Retry-After/X-Progress while "running", then 200 with the manifest. */
  status(jobId: string): Response {
    const job = this.job(jobId);
    if (job.pollsRemaining > 0) {
      job.pollsRemaining--;
      const done = job.pollsTotal - job.pollsRemaining;
      return new Response(null, {
        status: 202,
        headers: {
          'Retry-After': String(this.ctx.options.bulkRetryAfterSeconds),
          'X-Progress': `Preparing export (${done} of ${job.pollsTotal + 1} polls)`,
        },
      });
    }
    const fileUrl = (name: string): string => `${this.ctx.origin}/bulk/files/${job.id}/${name}`;
    const manifest = {
      transactionTime: job.transactionTime,
      request: job.request,
      requiresAccessToken: this.ctx.options.requireAuth,
      output: [...job.output].map(([name, file]) => ({ type: file.type, url: fileUrl(name), count: file.count })),
      error: [],
      ...(job.deleted.size > 0
        ? {
            deleted: [...job.deleted].map(([name, file]) => ({
              type: file.type,
              url: fileUrl(name),
              count: file.count,
            })),
          }
        : {}),
    };
    return new Response(JSON.stringify(manifest), {
      status: 200,
      headers: {
        'Content-Type': 'application/json',
        Expires: new Date(Date.now() + MANIFEST_LIFETIME_MS).toUTCString(),
      },
    });
  }

  /** BULK-07: DELETE on the status URL cancels the job and drops its files; later polls get 404. */
  cancel(jobId: string): Response {
    this.job(jobId);
    this.jobs.delete(jobId);
    return fhirResponse(operationOutcome('informational', 'Export deleted', 'information'), 202);
  }

  /** BULK-06: one NDJSON file, gzip-compressed when the client accepts it. */
  file(jobId: string, name: string, acceptEncoding: string | null): Response {
    const job = this.job(jobId);
    const file = job.output.get(name) ?? job.deleted.get(name);
    if (!file) throw FhirHttpError.notFound('No such export file');
    const headers: Record<string, string> = { 'Content-Type': 'application/fhir+ndjson' };
    if (/\bgzip\b/i.test(acceptEncoding ?? '')) {
      headers['Content-Encoding'] = 'gzip';
      return new Response(new Uint8Array(gzipSync(file.body)), { status: 200, headers });
    }
    return new Response(new Uint8Array(file.body), { status: 200, headers });
  }

  private job(jobId: string): ExportJob {
    const job = this.jobs.get(jobId);
    if (!job) throw FhirHttpError.notFound('Unknown or deleted export job');
    return job;
  }

  private statusUrl(jobId: string): string {
    return `${this.ctx.origin}/bulk/status/${jobId}`;
  }

  /** `Patient/<id>` of the patients in scope, or undefined for a system-level export. */
  private async patientsFor(level: ExportLevel): Promise<Set<string> | undefined> {
    if (level.kind === 'system') return undefined;
    if (level.kind === 'patient') {
      return new Set([...this.ctx.repo.currentResources('Patient')].map((patient) => `Patient/${patient.id}`));
    }
    const group = await this.ctx.repo.readResource('Group', level.id).catch(() => {
      throw FhirHttpError.notFound('Unknown Group');
    });
    const members = (group as { member?: { entity?: { reference?: string } }[] }).member ?? [];
    return new Set(members.flatMap((m) => (m.entity?.reference?.startsWith('Patient/') ? [m.entity.reference] : [])));
  }
}

function ndjsonFile(type: string, lines: string[]): ExportFile {
  return { type, count: lines.length, body: Buffer.from(`${lines.join('\n')}\n`, 'utf8') };
}
