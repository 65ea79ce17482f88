/**
 * The live class's dashboard, as the class host serves it to the instructor's browser
 * (`GET /class/v1/state`): its types and its polling interval, shared by the host
 * (electron/class/) and the renderer's Class view.
 */
import type { ClassLabReport } from './labs';

export type ClassStudentState = 'pending' | 'approved' | 'revoked';

/**
 * How often the Class view fetches the dashboard, ms. An event waits for the next fetch, so this
 * bounds the dashboard's update latency (`npm run bench -- class`: p95 under 1 s wants well
 * under 1 s here; at 1000 ms the p95 was 1.0 s); each fetch costs the host one computation.
 */
export const CLASS_DASHBOARD_POLL_MS = 500;

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
  /** Stuck: on a step not done for 10 minutes or more, or 3 or more failed checks on it. */
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
  /** Per lab: completion, steps, each measure's median and range, each claim's support (class-report.ts). */
  labs: ClassLabReport[];
  messages: { at: string; text: string }[];
}
