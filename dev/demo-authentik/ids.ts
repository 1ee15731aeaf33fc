import { createHash } from 'node:crypto';

/** Deterministic identifiers, so that seeds and synthetic directories are reproducible. */

export function sha256Hex(input: string): string {
  return createHash('sha256').update(input).digest('hex');
}

/** A dashed, version-4-shaped UUID taken from the first 128 bits of `hex`. */
export function uuidFromHex(hex: string): string {
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `4${hex.slice(13, 16)}`,
    `${variant}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}

/** `uid` of a user: sha256 hex of something that never changes for that user. */
export function userUid(pk: number, usernameAtCreation: string): string {
  return sha256Hex(`${pk}:${usernameAtCreation}`);
}

export function userUuid(pk: number): string {
  return uuidFromHex(sha256Hex(`demo-authentik:user:${pk}`));
}

/** Group UUIDs look random (so `pk` order differs from `num_pk` order) but are stable. */
export function groupUuid(numPk: number): string {
  return uuidFromHex(sha256Hex(`demo-authentik:group:${numPk}`));
}

const DASHED_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BARE_UUID = /^[0-9a-f]{32}$/;

/** Django's UUID parsing accepts dashed or bare hex, any case. `undefined` if neither. */
export function parseUuid(raw: string): string | undefined {
  const lower = raw.trim().toLowerCase();
  if (DASHED_UUID.test(lower)) return lower;
  if (BARE_UUID.test(lower)) return uuidFromBareHex(lower);
  return undefined;
}

function uuidFromBareHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
