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
  /** The labs released to the class, lab ids in the order released (none: the class sees every lab). */
  released: string[];
  /** "Catch up to step N" suggestions, oldest first, with the students who accepted each. */
  catchUps: ClassCatchUp[];
}

/** A catch-up suggestion on the dashboard. */
export interface ClassCatchUp {
  id: string;
  /** ISO time it was suggested. */
  at: string;
  lab: string;
  /** 1-based step number. */
  step: number;
  /** The student's key; absent: the whole room. */
  student?: string;
  /** Keys of the students who accepted it, each with the ISO time. */
  accepted: { student: string; at: string }[];
}

// ---------------------------------------------------------------------------------------
// The student's side: the app's class client (`class:*` methods, `class:update` events)

/**
 * "Catch up to step N of LAB": suggested by the instructor to one student or to the room. The
 * student's MicroLab only shows it; accepting (the student's own act) runs `lab start LAB --step N`
 * and tells the host in the next batch (`accepted`).
 */
export interface CatchUp {
  /** The host's id for the suggestion: `c1`, `c2`... */
  id: string;
  /** When the instructor suggested it, ISO time (the host's clock). */
  at: string;
  lab: string;
  /** The step to catch up to, 1-based (what `lab start --step` takes). */
  step: number;
  /** The student it is for (the host's key); absent: the whole room. */
  student?: string;
  /** When this student accepted it, ISO time (the host's answer carries the student's own). */
  accepted?: string;
}

/** Where the student's MicroLab is in its class (never the token or the join code). */
export interface ClassJoinState {
  /** `pending`: waiting for the instructor; `joined`: approved and sending; `ended`: the class is over. */
  phase: 'pending' | 'joined' | 'ended';
  /** The host's address and port. */
  host: string;
  port: number;
  /** The host's key for this student (`s3`), once it answered. */
  student?: string;
  /** Events not yet held by the host. */
  pending: number;
  messages: { at: string; text: string }[];
  /** Lab ids the instructor released, in order (empty: none yet). */
  released: string[];
  /** Catch-up suggestions for this student or the room; `accepted`: when this student accepted. */
  catchUps: CatchUp[];
}

/** What `class:status` answers and `class:update` pushes: no class, or where this MicroLab is in one. */
export type ClassJoinStatus =
  | {
      joined: false;
      /** A class joined before is kept (`class:join` without a code takes it up again). */
      saved: boolean;
    }
  | (ClassJoinState & {
      joined: true;
      /** Whether the client runs (asks to join, or sends); false once ended or refused. */
      running: boolean;
      /** Why it stopped, when it stopped on an error (a refusal, a wrong certificate). */
      problem?: string;
    });

// ---------------------------------------------------------------------------------------
// The instructor's side: the app's class host (`class:host`, `class:host-status`, `class:host-end`)

/** One of the machine's interfaces, as `class:interfaces` lists them. */
export interface ClassInterface {
  name: string;
  /** Its IPv4 addresses (empty: IPv6 only). */
  ipv4: string[];
  /** Loopback: only this machine reaches it. */
  internal: boolean;
}

/** What `class:host` and `class:host-status` answer: the class this MicroLab hosts, if it does. */
export type ClassHostStatus =
  | {
      running: false;
      /** A class started before and not ended: `class:host` on its interface picks it up again. */
      inProgress?: { interface: string; address: string; port: number; students: number };
    }
  | {
      running: true;
      /** Picked up from the store (started before), not new. */
      resumed: boolean;
      classId: string;
      interface: string;
      /** The address it listens on (the interface's), and its TCP port. */
      address: string;
      port: number;
      autoApprove: boolean;
      /** The join code (MLC1...: address, port, class token, certificate fingerprint). */
      joinCode: string;
      /** The join code as a QR code, an SVG document. */
      qrSvg: string;
      /** The class certificate's SHA-256 fingerprint, hex pairs. */
      fingerprint: string;
      /** The dashboard's address, the instructor token in its fragment: for the instructor only. */
      dashboardUrl: string;
      /** Students who asked to join and wait for approval, and all students so far. */
      pending: number;
      students: number;
    };
