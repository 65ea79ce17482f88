/**
 * Who the progress belongs to: the name (and id) a student set, or MICROLAB_STUDENT (and
 * MICROLAB_STUDENT_ID), which overrides the stored one for the process it is set in. Never the
 * operating system's account: a classroom's machines often all log in as `student`.
 */
import type { Student, StudentInfo } from '../api/contract';
import { StudentSet } from '../api/labs';
import { ApiError } from '../errors';
import type { ProgressFile } from './progress';

/**
 * The student named by MICROLAB_STUDENT (and MICROLAB_STUDENT_ID), or undefined when it is not
 * set. Throws ApiError `student-invalid` naming the variable when its value is not a name.
 */
export function studentFromEnv(env: NodeJS.ProcessEnv): Student | undefined {
  const name = env.MICROLAB_STUDENT;
  if (name === undefined || name.trim() === '') return undefined;
  const id = env.MICROLAB_STUDENT_ID?.trim() ? env.MICROLAB_STUDENT_ID : undefined;
  const parsed = StudentSet.safeParse({ name, ...(id !== undefined ? { id } : {}) });
  if (!parsed.success)
    throw new ApiError(
      'student-invalid',
      `MICROLAB_STUDENT${id !== undefined ? ' / MICROLAB_STUDENT_ID' : ''}: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    );
  return parsed.data;
}

/** The student in effect for this progress: the environment's, else the stored one. */
export function studentInfo(data: ProgressFile, fromEnv: Student | undefined, account: string): StudentInfo {
  if (fromEnv) return { student: fromEnv, source: 'env', account };
  if (data.student) return { student: data.student, source: 'stored', account };
  return { source: 'none', account };
}

/** "Ana Lima (s123)", "Ana Lima". */
export function studentLabel(student: Student): string {
  return student.id ? `${student.name} (${student.id})` : student.name;
}
