import {
  applyDecorators,
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationError,
} from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsObject,
  IsISO8601,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { AppException, type FieldError } from '#src/common/errors/app.exception.js';

// Composite decorators: one line per field validates it and documents it in OpenAPI.

interface Opt {
  optional?: boolean;
  /** `null` is accepted and means "clear this field"; only where the route can clear it. */
  nullable?: boolean;
  description?: string;
}

function doc(o: Opt, schema: Record<string, unknown>): PropertyDecorator {
  const extra = {
    ...schema,
    ...(o.description ? { description: o.description } : {}),
    ...(o.nullable ? { nullable: true } : {}),
  };
  return o.optional ? ApiPropertyOptional(extra) : ApiProperty(extra);
}

const NotNull = ValidateBy({
  name: 'notNull',
  validator: { validate: (v: unknown) => v !== null, defaultMessage: () => 'must not be null' },
});

/**
 * Presence, one rule for every field of every DTO (class-validator's IsOptional is not used: it
 * lets `null` through to the services). An optional field may be absent; `null` is accepted only
 * by a `nullable` field (it clears it) and is a 400 naming the field everywhere else.
 */
function presence(o: Opt): PropertyDecorator[] {
  if (o.nullable) {
    return [ValidateIf((_obj, v) => v !== null && (v !== undefined || !o.optional))];
  }
  return [...(o.optional ? [ValidateIf((_obj, v) => v !== undefined)] : []), NotNull];
}

export function EmailField(o: Opt = {}): PropertyDecorator {
  return applyDecorators(
    doc(o, { type: String, format: 'email', maxLength: 254 }),
    ...presence(o),
    IsString({ message: 'must be a string' }),
    MaxLength(254, { message: 'must be at most 254 characters' }),
    IsEmail({}, { message: 'must be a valid email address' }),
  );
}

export function StringField(
  o: Opt & { min?: number; max?: number; pattern?: RegExp; patternMessage?: string } = {},
): PropertyDecorator {
  const max = o.max ?? 200;
  const min = o.min ?? 1;
  return applyDecorators(
    doc(o, {
      type: String,
      minLength: min,
      maxLength: max,
      ...(o.pattern ? { pattern: o.pattern.source } : {}),
    }),
    ...presence(o),
    IsString({ message: 'must be a string' }),
    MinLength(min, {
      message: min === 1 ? 'must not be empty' : `must be at least ${min} characters`,
    }),
    MaxLength(max, { message: `must be at most ${max} characters` }),
    ...(o.pattern
      ? [Matches(o.pattern, { message: o.patternMessage ?? `must match ${o.pattern.source}` })]
      : []),
  );
}

/** Passwords: length rules belong to the password policy (422 / 400 there), here only the type. */
export function PasswordField(o: Opt = {}): PropertyDecorator {
  return applyDecorators(
    doc(o, { type: String, format: 'password', writeOnly: true }),
    ...presence(o),
    IsString({ message: 'must be a string' }),
    MaxLength(1024, { message: 'must be at most 1024 characters' }),
  );
}

export function IdField(o: Opt = {}): PropertyDecorator {
  return StringField({
    ...o,
    min: 1,
    max: 36,
    pattern: /^[0-9a-zA-Z-]{1,36}$/,
    patternMessage: 'must be an id',
  });
}

export function EnumField(values: readonly string[], o: Opt = {}): PropertyDecorator {
  return applyDecorators(
    doc(o, { enum: [...values], type: String }),
    ...presence(o),
    IsIn([...values], { message: `must be one of: ${values.join(', ')}` }),
  );
}

export function BooleanField(o: Opt = {}): PropertyDecorator {
  return applyDecorators(
    doc(o, { type: Boolean }),
    ...presence(o),
    IsBoolean({ message: 'must be true or false' }),
  );
}

/** Query strings carry booleans as `true` / `false`: converted first, then validated as a boolean. */
export function QueryBooleanField(o: Opt = {}): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      value === 'true' ? true : value === 'false' ? false : value,
    ),
    BooleanField(o),
  );
}

export function IntField(o: Opt & { min?: number; max?: number } = {}): PropertyDecorator {
  return applyDecorators(
    doc(o, { type: Number, minimum: o.min, maximum: o.max }),
    ...presence(o),
    IsInt({ message: 'must be a whole number' }),
    ...(o.min !== undefined ? [Min(o.min, { message: `must be at least ${o.min}` })] : []),
    ...(o.max !== undefined ? [Max(o.max, { message: `must be at most ${o.max}` })] : []),
  );
}

export function StringArrayField(
  o: Opt & { maxItems?: number; itemMax?: number; itemPattern?: RegExp } = {},
): PropertyDecorator {
  const maxItems = o.maxItems ?? 100;
  return applyDecorators(
    doc(o, { type: [String], maxItems }),
    ...presence(o),
    IsArray({ message: 'must be an array' }),
    ArrayMaxSize(maxItems, { message: `must have at most ${maxItems} items` }),
    IsString({ each: true, message: 'each item must be a string' }),
    MaxLength(o.itemMax ?? 200, {
      each: true,
      message: `each item must be at most ${o.itemMax ?? 200} characters`,
    }),
    ...(o.itemPattern
      ? [
          Matches(o.itemPattern, {
            each: true,
            message: `each item must match ${o.itemPattern.source}`,
          }),
        ]
      : []),
  );
}

/** An ISO 8601 date-time string. */
export function DateTimeField(o: Opt = {}): PropertyDecorator {
  return applyDecorators(
    doc(o, { type: String, format: 'date-time' }),
    ...presence(o),
    IsISO8601({ strict: true }, { message: 'must be an ISO 8601 date-time' }),
  );
}

export function ObjectField(o: Opt = {}): PropertyDecorator {
  return applyDecorators(
    doc(o, { type: 'object', additionalProperties: true }),
    ...presence(o),
    IsObject({ message: 'must be a JSON object' }),
  );
}

export function NestedField(
  type: () => new () => object,
  o: Opt & { array?: boolean; maxItems?: number } = {},
): PropertyDecorator {
  return applyDecorators(
    doc(o, { type: o.array ? [type()] : type() }),
    ...presence(o),
    ...(o.array
      ? [
          IsArray({ message: 'must be an array' }),
          ArrayMaxSize(o.maxItems ?? 500, {
            message: `must have at most ${o.maxItems ?? 500} items`,
          }),
        ]
      : [IsObject({ message: 'must be an object' })]),
    ValidateNested({ each: o.array ?? false }),
    Type(type),
  );
}

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const [rule, message] of Object.entries(e.constraints ?? {})) {
      out.push({
        field,
        message: rule === 'whitelistValidation' ? 'is not a known field' : message,
      });
    }
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

/** A shallow copy with the same prototype (the DTO class). */
function copyOf(o: object): object {
  return Object.assign(Object.create(Object.getPrototypeOf(o) as object | null) as object, o);
}

/**
 * The validation pipe, answering at once what needs no validation, and with one shortcut on the
 * hot path: an empty query string (most GETs, e.g. `GET /users/me`) gives the same result for a
 * given DTO class every time, so it is validated and transformed once per class; later requests get
 * a fresh shallow copy of that result (query DTO fields are scalars). A class whose empty query is
 * invalid keeps going through full validation.
 *
 * ValidationPipe's `transform` is declared to return a promise; this one returns the value itself
 * when it has it at once (a custom decorator's parameter, a primitive, a known empty query). Nest's
 * pipes consumer awaits a pipe's answer either way; the hot reads (src/common/http/hot-read.ts)
 * await it only when it is a promise, which spares them two promises a request.
 */
class AppValidationPipe extends ValidationPipe {
  private readonly emptyQuery = new Map<unknown, object | null>();

  // `any`: the base class declares Promise<any>, and this override's answer is sometimes the value
  // itself (see above); no narrower type is assignable to the base's.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override transform(value: unknown, metadata: ArgumentMetadata): any {
    const known = this.answerAtOnce(value, metadata);
    return known === NOT_AT_ONCE ? this.transformLater(value, metadata) : known;
  }

  /** ValidationPipe's own first branch (nothing to validate), and a known empty query. */
  private answerAtOnce(value: unknown, metadata: ArgumentMetadata): unknown {
    const typed = this.expectedType ? { ...metadata, metatype: this.expectedType } : metadata;
    if (!typed.metatype || !this.toValidate(typed))
      return this.isTransformEnabled ? this.transformPrimitive(value, typed) : value;
    if (!isEmptyQuery(value, metadata)) return NOT_AT_ONCE;
    const known = this.emptyQuery.get(metadata.metatype);
    return known ? copyOf(known) : NOT_AT_ONCE;
  }

  private async transformLater(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype } = metadata;
    if (!isEmptyQuery(value, metadata) || this.emptyQuery.get(metatype) === null)
      return super.transform(value, metadata);
    try {
      const result: unknown = await super.transform({}, metadata);
      this.emptyQuery.set(
        metatype,
        result !== null && typeof result === 'object' ? copyOf(result) : null,
      );
      return result;
    } catch (err) {
      this.emptyQuery.set(metatype, null);
      throw err;
    }
  }
}

const NOT_AT_ONCE = Symbol('not at once');

function isEmptyQuery(value: unknown, metadata: ArgumentMetadata): value is object {
  return (
    metadata.type === 'query' &&
    metadata.metatype !== undefined &&
    value !== null &&
    typeof value === 'object' &&
    Object.keys(value).length === 0
  );
}

export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const list = flatten(errors);
      return new AppException(
        'validation_failed',
        `Invalid input: ${list.map((e) => `${e.field} ${e.message}`).join('; ')}`,
        list,
      );
    },
  });
}
