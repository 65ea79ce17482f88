/**
 * The live class's dashboard, as the class host serves it to the instructor's browser
 * (`GET /class/v1/state`): types only, shared by the host (electron/class/) and the renderer's
 * Class view.
 */
import type { ClassLabReport } from './labs';

export type ClassStudentState = 'pending' | 'approved' | 'revoked';

/** Events per kind (see electron/class/protocol.ts: CLASS_EVENT_KINDS). */
export type ClassTotals = Record<
  'step-started' | 'check' | 'hint' | 'solve' | 'pass' | 'measurement' | 'prediction' | 'doctor',
  number
>;

export interface ClassDashboardStudent {
  /** The host's key for the student (`s1`, `s2`...): what approve and revoke take. */
  key: string;
  name: string;
  id?: string;
  state: ClassStudentState;
  /** The address the student joined from. */
  address: string;
  joinedAt: string;
  /** Last accepted message, ISO time (absent: none yet). */
  lastSeen?: string;
  /** The lab and step the student last started (absent: none yet). */
  lab?: string;
  step?: string;
  /** On that step: checks run, hints shown, minutes since it started (null once done). */
  attempts: number;
  hints: number;
  minutesOnStep: number | null;
  /**
   * The check the latest run on that step failed on, how, and how many runs in a row ended on it
   * the same way (same check, same message); absent when the latest run passed or none ran.
   */
  failing?: { check: string; description: string; message: string; streak: number };
  /**
   * Stuck: on a step not done for 10 minutes or more, or whose last 3 check runs failed the
   * same way (dashboard.ts: STUCK_MINUTES, STUCK_SAME_FAILURES).
   */
  stuck: boolean;
  /** The latest doctor result the laptop sent (absent: none). */
  doctor?: { ready: boolean; failing: string[]; at: string };
  totals: ClassTotals;
}

export interface ClassDashboard {
  class: {
    id: string;
    createdAt: string;
    address: string;
    port: number;
    autoApprove: boolean;
    ended?: string;
  };
  students: ClassDashboardStudent[];
  /** Events accepted, per kind, over the class: each event counted once. */
  totals: ClassTotals;
  /** Laptops whose latest doctor says ready, of those that sent one. */
  readiness: { ready: number; notReady: number; unknown: number };
  /**
   * Across the room, per lab and step: the check that the most students on it fail now (their
   * latest run on the step failed on it), most students first.
   */
  commonFailures: { lab: string; step: string; check: string; description: string; students: number }[];
  /** Per lab: completion, steps, each measure's median and range, each claim's support (class-report.ts). */
  labs: ClassLabReport[];
  messages: { at: string; text: string }[];
}
