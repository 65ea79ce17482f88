/** Logs are JSON lines on stdout: one object per event, easy to grep and to parse. */
export type Level = 'info' | 'warn' | 'error';

let role = 'shop';

export function setLogRole(name: string): void {
  role = name;
}

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, role, msg, ...fields })}\n`,
  );
}
