import { parse, type Filter } from 'scim2-parse-filter';
import { ScimException } from '#src/common/errors/scim-error.js';
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '#src/scim/scim-schemas.js';

/**
 * One filterable attribute: the SQL expression it reads (TypeORM property paths, so the query
 * builder escapes them), its SCIM type and case rule, and for multi-valued attributes kept in
 * another table the EXISTS subquery the condition goes into.
 */
export interface SqlAttribute {
  sql: string;
  type: 'string' | 'boolean' | 'dateTime';
  caseExact: boolean;
  /** Already lower-cased in the column (an indexed, normalised copy): compare with a lowered value. */
  lowered?: boolean;
  /** Wraps the condition on this attribute (e.g. in an EXISTS over a membership table). */
  wrap?: (condition: string) => string;
}

/** Resolves a lower-cased attribute path (schema URN of the core schema already removed). */
export type AttributeMap = (path: string) => SqlAttribute | undefined;

export interface SqlCondition {
  sql: string;
  params: Record<string, unknown>;
}

export type Dialect = 'mysql' | 'sqlite';

const CORE_PREFIXES = [USER_SCHEMA, GROUP_SCHEMA].map((s) => `${s.toLowerCase()}:`);

/** `urn:…:core:2.0:User:userName` → `username`; the enterprise URN stays, as `urn:…:user:dept`. */
export function normalisePath(path: string): string {
  const lower = path.toLowerCase();
  for (const p of CORE_PREFIXES) if (lower.startsWith(p)) return lower.slice(p.length);
  return lower;
}

export const ENTERPRISE_PREFIX = `${ENTERPRISE_SCHEMA.toLowerCase()}:`;

/** Parses a filter with scim2-parse-filter; a syntax error is 400 invalidFilter. */
export function parseFilter(text: string): Filter {
  if (text.length > 4096) throw ScimException.invalidFilter('The filter is too long.');
  try {
    return parse(text);
  } catch (err) {
    throw ScimException.invalidFilter(
      `The filter could not be parsed: ${err instanceof Error ? err.message : 'syntax error'}`,
    );
  }
}

/** LIKE with `!` as the escape character (one spelling both dialects accept). */
function likeEscape(s: string): string {
  return s.replace(/[!%_]/g, (c) => `!${c}`);
}

/** GLOB (SQLite's case-sensitive LIKE) pattern escape. */
function globEscape(s: string): string {
  return s.replace(/[[*?]/g, (c) => `[${c}]`);
}

/**
 * Translates a parsed SCIM filter into one SQL condition with bound parameters, attribute by
 * attribute through `map`; what `map` does not know is 400 invalidFilter. Case-insensitive
 * attributes compare lower-cased on both sides (or a lower-cased column); case-exact ones compare
 * bytes (BINARY on MySQL, whose default collation ignores case; SQLite compares bytes already).
 */
export class FilterTranslator {
  private n = 0;
  readonly params: Record<string, unknown> = {};

  constructor(
    private readonly map: AttributeMap,
    private readonly dialect: Dialect,
  ) {}

  translate(f: Filter): string {
    return this.node(f, this.map);
  }

  private param(v: unknown): string {
    const name = `scimf${this.n++}`;
    this.params[name] = v;
    return `:${name}`;
  }

  private node(f: Filter, map: AttributeMap): string {
    switch (f.op) {
      case 'and':
      case 'or': {
        const parts = (f as { filters: Filter[] }).filters.map((x) => `(${this.node(x, map)})`);
        return parts.join(f.op === 'and' ? ' AND ' : ' OR ');
      }
      case 'not':
        // SQL's NOT of an unknown (NULL) is unknown: "not" must match rows where the inner is.
        return `(${this.node((f as { filter: Filter }).filter, map)}) IS NOT TRUE`;
      case '[]': {
        const v = f as { attrPath: string; valFilter: Filter };
        const parent = normalisePath(v.attrPath);
        const wrapper = map(`${parent}.value`)?.wrap;
        const inner: AttributeMap = (sub) => {
          const a = map(`${parent}.${sub}`);
          return a ? { ...a, wrap: undefined } : undefined;
        };
        if (!map(`${parent}.value`) && !map(`${parent}.type`))
          throw ScimException.invalidFilter(`The attribute ${v.attrPath} cannot be filtered on.`);
        const cond = this.node(v.valFilter, inner);
        return wrapper ? wrapper(cond) : cond;
      }
      case 'pr':
      case 'eq':
      case 'ne':
      case 'co':
      case 'sw':
      case 'ew':
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le': {
        const c = f as { op: string; attrPath: string; compValue?: unknown };
        const path = normalisePath(c.attrPath);
        const a = map(path) ?? map(`${path}.value`);
        if (!a)
          throw ScimException.invalidFilter(`The attribute ${c.attrPath} cannot be filtered on.`);
        const cond = this.compare(a, c.op, c.compValue, c.attrPath);
        return a.wrap ? a.wrap(cond) : cond;
      }
      default:
        throw ScimException.invalidFilter(
          `The operator ${(f as { op: string }).op} is not supported.`,
        );
    }
  }

  private compare(a: SqlAttribute, op: string, value: unknown, path: string): string {
    const col = a.sql;
    if (op === 'pr')
      return a.type === 'string' ? `(${col} IS NOT NULL AND ${col} <> '')` : `${col} IS NOT NULL`;
    if (value === null) {
      if (op === 'eq') return `${col} IS NULL`;
      if (op === 'ne') return `${col} IS NOT NULL`;
      throw ScimException.invalidFilter(`${op} null is not a valid comparison (${path}).`);
    }
    switch (a.type) {
      case 'boolean': {
        if (typeof value !== 'boolean')
          throw ScimException.invalidFilter(`${path} is a boolean: compare it with true or false.`);
        if (op === 'eq') return `${col} = ${this.param(value)}`;
        if (op === 'ne') return `${col} <> ${this.param(value)}`;
        throw ScimException.invalidFilter(`${op} is not defined on the boolean ${path}.`);
      }
      case 'dateTime': {
        const d = typeof value === 'string' ? new Date(value) : null;
        if (!d || Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(value as string))
          throw ScimException.invalidFilter(
            `${path} is a dateTime: compare it with an ISO 8601 string.`,
          );
        const ops: Record<string, string> = {
          eq: '=',
          ne: '<>',
          gt: '>',
          ge: '>=',
          lt: '<',
          le: '<=',
        };
        const sqlOp = ops[op];
        if (!sqlOp)
          throw ScimException.invalidFilter(`${op} is not defined on the dateTime ${path}.`);
        return `${col} ${sqlOp} ${this.param(d)}`;
      }
      case 'string': {
        if (typeof value !== 'string')
          throw ScimException.invalidFilter(`${path} is a string: compare it with a string.`);
        return a.caseExact ? this.exact(col, op, value, path) : this.folded(a, op, value, path);
      }
    }
  }

  private folded(a: SqlAttribute, op: string, value: string, path: string): string {
    const col = a.lowered ? a.sql : `LOWER(${a.sql})`;
    const v = value.toLowerCase();
    switch (op) {
      case 'eq':
        return `${col} = ${this.param(v)}`;
      case 'ne':
        return `(${col} IS NULL OR ${col} <> ${this.param(v)})`;
      case 'co':
        return `${col} LIKE ${this.param(`%${likeEscape(v)}%`)} ESCAPE '!'`;
      case 'sw':
        return `${col} LIKE ${this.param(`${likeEscape(v)}%`)} ESCAPE '!'`;
      case 'ew':
        return `${col} LIKE ${this.param(`%${likeEscape(v)}`)} ESCAPE '!'`;
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le':
        return `${col} ${{ gt: '>', ge: '>=', lt: '<', le: '<=' }[op]} ${this.param(v)}`;
      default:
        throw ScimException.invalidFilter(`${op} is not defined on ${path}.`);
    }
  }

  private exact(sql: string, op: string, v: string, path: string): string {
    const mysql = this.dialect === 'mysql';
    const col = mysql ? `BINARY ${sql}` : sql;
    const like = (pattern: string): string =>
      mysql
        ? `${col} LIKE BINARY ${this.param(pattern)} ESCAPE '!'`
        : `${sql} GLOB ${this.param(pattern)}`;
    const esc = mysql ? likeEscape : globEscape;
    const any = mysql ? '%' : '*';
    switch (op) {
      case 'eq':
        return `${col} = ${this.param(v)}`;
      case 'ne':
        return `(${sql} IS NULL OR ${col} <> ${this.param(v)})`;
      case 'co':
        return like(`${any}${esc(v)}${any}`);
      case 'sw':
        return like(`${esc(v)}${any}`);
      case 'ew':
        return like(`${any}${esc(v)}`);
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le':
        return `${col} ${{ gt: '>', ge: '>=', lt: '<', le: '<=' }[op]} ${this.param(v)}`;
      default:
        throw ScimException.invalidFilter(`${op} is not defined on ${path}.`);
    }
  }
}

/** The filter (or none) as one SQL condition with its parameters. */
export function filterToSql(
  text: string | undefined,
  map: AttributeMap,
  dialect: Dialect,
): SqlCondition | null {
  if (text === undefined || text.trim() === '') return null;
  const t = new FilterTranslator(map, dialect);
  const sql = t.translate(parseFilter(text));
  return { sql, params: t.params };
}
