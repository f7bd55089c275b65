import { scimPatch, type ScimPatchOperation, type ScimResource } from 'scim-patch';
import { ScimException, type ScimType } from '#src/common/errors/scim-error.js';
import { attr } from '#src/scim/scim-input.js';
import { PATCH_SCHEMA } from '#src/scim/scim-schemas.js';

const MAX_OPERATIONS = 1000;

/**
 * Entra ID removes group members with `{op: "Remove", path: "members", value: [{value: id}]}`:
 * the same as one `members[value eq "id"]` removal per listed value (scim-patch would compare
 * whole member objects, which carry display and $ref here).
 */
function expandRemoveByValue(o: unknown): unknown[] {
  const op = attr(o, 'op');
  const path = attr(o, 'path');
  const value = attr(o, 'value');
  if (
    typeof op !== 'string' ||
    op.toLowerCase() !== 'remove' ||
    typeof path !== 'string' ||
    !/^[A-Za-z]+$/.test(path) ||
    !Array.isArray(value) ||
    !value.every((v) => typeof attr(v, 'value') === 'string')
  )
    return [o];
  return value.map((v) => ({
    op: 'remove',
    path: `${path}[value eq ${JSON.stringify(attr(v, 'value'))}]`,
  }));
}

/**
 * Applies a PatchOp body to a resource representation with scim-patch and returns the patched
 * copy; the caller validates it and persists the difference. Operation names are read
 * case-insensitively (Entra ID sends "Replace"); path-less add/replace values whose keys are
 * themselves paths ("name.givenName", enterprise URNs) are handled by scim-patch.
 */
export function applyPatch<T extends Record<string, unknown>>(
  resource: T,
  body: unknown,
  kept: ReadonlySet<string>,
): T {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ScimException(400, 'The body must be a JSON object.', 'invalidSyntax');
  const schemas = attr(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_SCHEMA))
    throw new ScimException(400, `schemas must contain ${PATCH_SCHEMA}.`, 'invalidSyntax');
  const ops = attr(body, 'Operations');
  if (!Array.isArray(ops) || ops.length === 0)
    throw new ScimException(400, 'Operations must be a non-empty array.', 'invalidSyntax');
  if (ops.length > MAX_OPERATIONS)
    throw new ScimException(400, `At most ${MAX_OPERATIONS} operations at once.`, 'tooMany');
  // Operations on attributes this server does not keep (Entra's addresses and phoneNumbers) are
  // accepted and ignored, as those attributes are in a POST or PUT body.
  const relevant = ops.flatMap(expandRemoveByValue).filter((o) => {
    const path = attr(o, 'path');
    if (typeof path !== 'string') return true;
    const top = path.startsWith('urn:')
      ? path.toLowerCase()
      : (path.split(/[.[]/, 1)[0] ?? '').toLowerCase();
    return [...kept].some((k) => top === k || top.startsWith(`${k}:`));
  });
  if (relevant.length === 0) return resource;
  const operations = relevant.map((o, i): ScimPatchOperation => {
    const op = attr(o, 'op');
    const path = attr(o, 'path');
    const value = attr(o, 'value');
    if (typeof op !== 'string' || !/^(add|replace|remove)$/i.test(op))
      throw new ScimException(
        400,
        `Operations[${i}].op must be add, replace or remove.`,
        'invalidSyntax',
      );
    if (path !== undefined && typeof path !== 'string')
      throw new ScimException(400, `Operations[${i}].path must be a string.`, 'invalidPath');
    const name = op.toLowerCase() as 'add' | 'replace' | 'remove';
    if (name === 'remove') {
      if (path === undefined)
        throw new ScimException(400, `Operations[${i}]: remove needs a path.`, 'noTarget');
      return value === undefined ? { op: name, path } : { op: name, path, value };
    }
    if (value === undefined)
      throw new ScimException(400, `Operations[${i}]: ${name} needs a value.`, 'invalidValue');
    if (path !== undefined && /^(id|meta|schemas)(\.|$)/i.test(path))
      throw ScimException.mutability(`${path} cannot be changed.`);
    return path === undefined ? { op: name, value } : { op: name, path, value };
  });
  try {
    return scimPatch(resource as unknown as ScimResource, operations, {
      mutateDocument: false,
      treatMissingAsAdd: true,
    }) as unknown as T;
  } catch (err) {
    const e = err as { scimCode?: string; message?: string };
    const known: ScimType[] = [
      'invalidPath',
      'noTarget',
      'invalidValue',
      'invalidSyntax',
      'invalidFilter',
    ];
    const scimType = known.find((k) => k === e.scimCode) ?? 'invalidValue';
    throw new ScimException(400, e.message ?? 'The patch could not be applied.', scimType);
  }
}
