/** Small JSON client for set-up calls (not measured). */
export interface JsonResponse {
  status: number;
  body: unknown;
  headers: Headers;
}

export async function call(
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** A field of a JSON object, or undefined. */
export function field(body: unknown, ...path: string[]): unknown {
  let cur = body;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** The first string anywhere in a JSON value that matches (e.g. the `gth_` secret of a new key). */
export function findString(body: unknown, test: (s: string) => boolean): string | undefined {
  if (typeof body === 'string') return test(body) ? body : undefined;
  if (body && typeof body === 'object') {
    for (const v of Object.values(body as Record<string, unknown>)) {
      const found = findString(v, test);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export class Skip extends Error {}

/** Throws Skip (with the route) when a route of a not-yet-merged branch answers 404. */
export function expectOk(res: JsonResponse, what: string, statuses = [200, 201]): void {
  if (res.status === 404) throw new Skip(`${what} answered 404 (route not in this build yet)`);
  if (!statuses.includes(res.status))
    throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
}
