/** Where a person lands after signing in when no `returnTo` was given: `/` sends them on to /console or /account. */
export const DEFAULT_RETURN_TO = '/';

/**
 * `returnTo` must be a path on this site: it starts with one `/`, never `//` or `/\` (browsers
 * read both as another host), contains no backslash, whitespace or control character (browsers
 * drop tabs and newlines, turning `/\t/evil` into `//evil`), and no scheme. Returns null when it
 * is not acceptable; undefined or empty means the default.
 */
export function parseReturnTo(raw: unknown): string | null {
  if (raw === undefined || raw === '') return DEFAULT_RETURN_TO;
  if (typeof raw !== 'string' || raw.length > 512) return null;
  if (!raw.startsWith('/') || raw.startsWith('//')) return null;
  if (/[\\\s\u0000-\u001f\u007f]/.test(raw)) return null;
  try {
    const base = 'http://gatehouse.invalid';
    const u = new URL(raw, base);
    if (u.origin !== base) return null;
  } catch {
    return null;
  }
  return raw;
}
