import { v7 as uuidv7 } from 'uuid';

/** Opaque, time-ordered ids (UUIDv7): index-friendly on InnoDB. */
export function newId(): string {
  return uuidv7();
}
