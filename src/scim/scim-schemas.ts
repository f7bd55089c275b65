/**
 * The discovery documents of RFC 7643 §5–7, describing exactly what this server keeps (and so what
 * the tests validate every response against).
 */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RT_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export type AttrType = 'string' | 'boolean' | 'dateTime' | 'reference' | 'complex';

export interface SchemaAttribute {
  name: string;
  type: AttrType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: SchemaAttribute[];
  referenceTypes?: string[];
  canonicalValues?: string[];
}

function attr(
  name: string,
  type: AttrType,
  description: string,
  o: Partial<Omit<SchemaAttribute, 'name' | 'type' | 'description'>> = {},
): SchemaAttribute {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...o,
  };
}

const str = (name: string, description: string, max?: number): SchemaAttribute =>
  attr(name, 'string', max ? `${description} (at most ${max} characters)` : description);

export const USER_ATTRIBUTES: SchemaAttribute[] = [
  attr('userName', 'string', 'The email address the person signs in with.', {
    required: true,
    uniqueness: 'server',
  }),
  attr('name', 'complex', 'The components of the name (kept for this workspace).', {
    subAttributes: [
      str('formatted', 'The full name, formatted for display', 200),
      str('familyName', 'Family name', 200),
      str('givenName', 'Given name', 200),
    ],
  }),
  str('displayName', 'The name shown for the person', 200),
  attr('externalId', 'string', 'The identifier the provisioning client uses.', {
    caseExact: true,
  }),
  str('title', 'Job title', 200),
  attr('active', 'boolean', 'False suspends the person in this workspace only.'),
  attr('emails', 'complex', 'The primary email address (the same as userName).', {
    multiValued: true,
    subAttributes: [
      attr('value', 'string', 'The email address.'),
      attr('type', 'string', 'Always work.', { canonicalValues: ['work'] }),
      attr('primary', 'boolean', 'Always true.'),
    ],
  }),
  attr('password', 'string', 'Never set through SCIM (400 mutability).', {
    mutability: 'writeOnly',
    returned: 'never',
  }),
];

export const ENTERPRISE_ATTRIBUTES: SchemaAttribute[] = [
  str('employeeNumber', 'Employee number', 64),
  str('organization', 'Organization', 200),
  str('department', 'Department', 200),
  attr('manager', 'complex', "The person's manager.", {
    subAttributes: [
      attr('value', 'string', "The manager's id as the provisioning client knows it."),
      attr('$ref', 'reference', "The manager's SCIM User.", {
        referenceTypes: ['User'],
        mutability: 'readOnly',
      }),
    ],
  }),
];

export const GROUP_ATTRIBUTES: SchemaAttribute[] = [
  attr('displayName', 'string', 'The group name, unique in the workspace.', {
    required: true,
    uniqueness: 'server',
  }),
  attr('externalId', 'string', 'The identifier the provisioning client uses.', {
    caseExact: true,
  }),
  attr('members', 'complex', 'The members: Users of this workspace, by id.', {
    multiValued: true,
    subAttributes: [
      attr('value', 'string', 'The member’s User id.', {
        caseExact: true,
        mutability: 'immutable',
      }),
      attr('display', 'string', 'The member’s name or email.', { mutability: 'readOnly' }),
      attr('$ref', 'reference', 'The member’s SCIM User.', {
        referenceTypes: ['User'],
        mutability: 'immutable',
      }),
      attr('type', 'string', 'Always User.', {
        canonicalValues: ['User'],
        mutability: 'immutable',
      }),
    ],
  }),
];

function schemaResource(
  id: string,
  name: string,
  description: string,
  attributes: SchemaAttribute[],
  base: string,
): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SCHEMA],
    id,
    name,
    description,
    attributes,
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${id}` },
  };
}

export function schemas(base: string): Record<string, unknown>[] {
  return [
    schemaResource(USER_SCHEMA, 'User', 'A member of this workspace', USER_ATTRIBUTES, base),
    schemaResource(
      ENTERPRISE_SCHEMA,
      'EnterpriseUser',
      'Enterprise attributes of a member (kept for this workspace)',
      ENTERPRISE_ATTRIBUTES,
      base,
    ),
    schemaResource(GROUP_SCHEMA, 'Group', 'A group of this workspace', GROUP_ATTRIBUTES, base),
  ];
}

export function resourceTypes(base: string): Record<string, unknown>[] {
  return [
    {
      schemas: [RT_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'Members of the workspace',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [RT_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Groups of the workspace',
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

export const MAX_RESULTS = 200;

export function serviceProviderConfig(base: string): Record<string, unknown> {
  return {
    schemas: [SPC_SCHEMA],
    documentationUri: 'https://github.com/gatehouse/gatehouse/blob/main/docs/scim.md',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Workspace SCIM token',
        description:
          'Authorization: Bearer gths_…, created by a workspace admin at POST /api/v1/workspaces/{domain}/scim-tokens',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}
