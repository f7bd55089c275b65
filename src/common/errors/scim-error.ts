/** RFC 7644 §3.12 error `scimType` values this server uses. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_CONTENT_TYPE = 'application/scim+json';

export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

/** An error answered with the SCIM error schema (status as a string, RFC 7644 §3.12). */
export class ScimException extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ScimException';
  }

  static invalidValue(detail: string): ScimException {
    return new ScimException(400, detail, 'invalidValue');
  }
  static invalidFilter(detail: string): ScimException {
    return new ScimException(400, detail, 'invalidFilter');
  }
  static mutability(detail: string): ScimException {
    return new ScimException(400, detail, 'mutability');
  }
  /**
   * A problem (as the problem filter judged an error) in the SCIM schema: a body that is not JSON
   * is `invalidSyntax`.
   */
  static fromProblem(p: { status: number; detail: string }): ScimException {
    const scimType: ScimType | undefined =
      p.status === 400 && /JSON/.test(p.detail) ? 'invalidSyntax' : undefined;
    return new ScimException(p.status, p.detail, scimType);
  }
  static notFound(what: string): ScimException {
    return new ScimException(404, `${what} not found.`);
  }

  body(): ScimErrorBody {
    return {
      schemas: [SCIM_ERROR_SCHEMA],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.detail,
    };
  }
}
