import { createHash } from 'node:crypto';
import { ScimException } from '#src/common/errors/scim-error.js';
import { ENTERPRISE_PREFIX, normalisePath, type AttributeMap } from '#src/scim/scim-filter.js';
import { ENTERPRISE_SCHEMA, LIST_SCHEMA, MAX_RESULTS } from '#src/scim/scim-schemas.js';
import type { SqlAttribute } from '#src/scim/scim-filter.js';

export type ScimResource = Record<string, unknown> & {
  id: string;
  schemas: string[];
  meta: {
    resourceType: string;
    created: string;
    lastModified: string;
    location: string;
    version: string;
  };
};

/** A weak ETag over everything the resource says except `meta` (RFC 7644 §3.14). */
export function etagOf(resource: Omit<ScimResource, 'meta'> & { meta?: unknown }): string {
  const { meta: _meta, ...rest } = resource;
  const digest = createHash('sha256').update(JSON.stringify(rest)).digest('base64url');
  return `W/"${digest.slice(0, 22)}"`;
}

/** 412 unless `If-Match` is absent, `*`, or names the current version. */
export function checkIfMatch(header: string | undefined, current: string): void {
  if (header === undefined || header.trim() === '*') return;
  const tags = header.split(',').map((t) => t.trim());
  const bare = (t: string): string => t.replace(/^W\//, '');
  if (!tags.some((t) => bare(t) === bare(current)))
    throw new ScimException(412, 'The resource changed since the version in If-Match.');
}

// Attribute selection (RFC 7644 §3.4.2.5, §3.9)

interface Selector {
  top: string;
  sub: string | null;
}

function selectors(list: string | undefined): Selector[] | null {
  if (list === undefined || list.trim() === '') return null;
  return list.split(',').map((raw) => {
    const p = normalisePath(raw.trim());
    if (p.startsWith(ENTERPRISE_PREFIX)) {
      const sub = p.slice(ENTERPRISE_PREFIX.length);
      return { top: ENTERPRISE_SCHEMA.toLowerCase(), sub: sub || null };
    }
    if (p === ENTERPRISE_SCHEMA.toLowerCase()) return { top: p, sub: null };
    const [top = '', sub] = p.split('.', 2);
    return { top, sub: sub ?? null };
  });
}

const ALWAYS = new Set(['id', 'schemas']);

function pick(value: unknown, subs: Set<string>): unknown {
  const one = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).filter(([k]) => subs.has(k.toLowerCase())),
        )
      : v;
  return Array.isArray(value) ? value.map(one) : one(value);
}

function drop(value: unknown, subs: Set<string>): unknown {
  const one = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).filter(([k]) => !subs.has(k.toLowerCase())),
        )
      : v;
  return Array.isArray(value) ? value.map(one) : one(value);
}

/** Applies `attributes` or `excludedAttributes`; `id` and `schemas` are always returned. */
export function project(
  resource: Record<string, unknown>,
  attributes: string | undefined,
  excluded: string | undefined,
): Record<string, unknown> {
  const want = selectors(attributes);
  const skip = selectors(excluded);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    const k = key.toLowerCase();
    if (ALWAYS.has(k)) {
      out[key] = value;
      continue;
    }
    if (want) {
      const hits = want.filter((w) => w.top === k);
      if (hits.length === 0) continue;
      out[key] = hits.some((h) => h.sub === null)
        ? value
        : pick(value, new Set(hits.map((h) => h.sub ?? '')));
      continue;
    }
    if (skip) {
      const hits = skip.filter((w) => w.top === k);
      if (hits.some((h) => h.sub === null)) continue;
      out[key] = hits.length ? drop(value, new Set(hits.map((h) => h.sub ?? ''))) : value;
      continue;
    }
    out[key] = value;
  }
  return out;
}

// Query parameters of a list (RFC 7644 §3.4.2)

export interface ListParams {
  filter?: string;
  startIndex: number;
  count: number;
  sortBy?: SqlAttribute;
  descending: boolean;
  attributes?: string;
  excludedAttributes?: string;
}

function one(q: Record<string, unknown>, name: string): string | undefined {
  const key = Object.keys(q).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : q[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw ScimException.invalidValue(`${name} must be given once, as a string.`);
  return v;
}

function int(q: Record<string, unknown>, name: string, fallback: number): number {
  const v = one(q, name);
  if (v === undefined || v === '') return fallback;
  if (!/^-?\d{1,9}$/.test(v)) throw ScimException.invalidValue(`${name} must be an integer.`);
  return Number(v);
}

/** Reads and checks the list parameters (query string or a /.search body, same names). */
export function listParams(q: Record<string, unknown>, map: AttributeMap): ListParams {
  // Non-positive startIndex means 1; negative count means 0 (RFC 7644 §3.4.2.4).
  const startIndex = Math.max(1, int(q, 'startIndex', 1));
  const count = Math.min(MAX_RESULTS, Math.max(0, int(q, 'count', 100)));
  const sortByName = one(q, 'sortBy');
  let sortBy: SqlAttribute | undefined;
  if (sortByName !== undefined && sortByName !== '') {
    const p = normalisePath(sortByName);
    sortBy = map(p) ?? map(`${p}.value`);
    if (!sortBy || sortBy.wrap)
      throw ScimException.invalidValue(`Results cannot be sorted by ${sortByName}.`);
  }
  const order = one(q, 'sortOrder');
  if (order !== undefined && !['ascending', 'descending'].includes(order))
    throw ScimException.invalidValue('sortOrder is ascending or descending.');
  const filter = one(q, 'filter');
  const attributes = one(q, 'attributes');
  const excludedAttributes = one(q, 'excludedAttributes');
  return {
    ...(filter !== undefined ? { filter } : {}),
    startIndex,
    count,
    ...(sortBy ? { sortBy } : {}),
    descending: order === 'descending',
    ...(attributes !== undefined ? { attributes } : {}),
    ...(excludedAttributes !== undefined ? { excludedAttributes } : {}),
  };
}

export function listResponse(
  resources: Record<string, unknown>[],
  total: number,
  startIndex: number,
): Record<string, unknown> {
  return {
    schemas: [LIST_SCHEMA],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
