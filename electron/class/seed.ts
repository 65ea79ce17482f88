/**
 * Per-student seeds (Labtainers' per-student values): the host keeps a class secret, never sent,
 * and hands each student on approval their seed, HMAC-SHA-256(class secret, student key). A
 * student's MicroLab derives its per-student values from its seed (topology/secret.ts: the
 * database password); the instructor, holding the secret, computes every student's; a student,
 * holding only their own seed, cannot compute another's (HMAC is a PRF).
 */
import { createHmac } from 'node:crypto';

/** A seed as studentSeed makes it: 64 lowercase hex digits (32 bytes). */
export const SEED_PATTERN = /^[0-9a-f]{64}$/;

/** Student `student`'s seed (their key in the class: `s1`, `s2`...) under the class secret. */
export function studentSeed(classSecret: string, student: string): string {
  return createHmac('sha256', classSecret).update(`microlab/student/${student}`).digest('hex');
}
