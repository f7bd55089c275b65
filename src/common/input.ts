import type { FieldError } from '#src/common/errors/app.exception.js';

/** JSON nested deeper than this is refused before anything else reads it. */
export const MAX_INPUT_DEPTH = 32;

// Keys that address an object's prototype chain: never a field of ours, whatever the route.
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

// In a `u` regular expression a surrogate range matches only unpaired (lone) surrogates.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function badString(s: string): string | null {
  if (s.includes('\0')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(s)) return 'must be well-formed Unicode (no lone surrogates)';
  return null;
}

/** A key as it can be shown in an error: escaped the way JSON would write it when unsafe. */
function printable(key: string): string {
  return badString(key) === null && !/[\p{Cc}]/u.test(key) ? key : JSON.stringify(key).slice(1, -1);
}

function join(path: string, key: string): string {
  return path ? `${path}.${printable(key)}` : printable(key);
}

/**
 * The first reason a parsed body or query string cannot be handed to validation: a prototype key,
 * nesting deeper than MAX_INPUT_DEPTH, or a string (value or key) holding NUL or a lone surrogate.
 * Walks iteratively, so depth itself cannot exhaust the stack. Field names are dotted paths as the
 * validation errors write them (`members.0.userId`); `body` when the whole body is at fault.
 */
export function findUnsafeInput(input: unknown): FieldError | null {
  const stack: { value: unknown; path: string; depth: number }[] = [
    { value: input, path: '', depth: 0 },
  ];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const message = badString(value);
      if (message) return { field: path || 'body', message };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) {
      return { field: path || 'body', message: `is nested deeper than ${MAX_INPUT_DEPTH} levels` };
    }
    for (const key of Object.keys(value)) {
      const field = join(path, key);
      if (PROTOTYPE_KEYS.has(key)) return { field, message: 'is not a known field' };
      const message = badString(key);
      if (message) return { field, message: `has a name that ${message}` };
      stack.push({ value: (value as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return null;
}
