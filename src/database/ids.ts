import { v7 as uuidv7, validate } from 'uuid';

/** Opaque, time-ordered ids (UUIDv7): index-friendly on InnoDB. */
export function newId(): string {
  return uuidv7();
}

/** Whether `s` has the shape of an id we issue (any UUID version), checked before any query. */
export function isUuid(s: string): boolean {
  return validate(s);
}
