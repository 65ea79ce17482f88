/**
 * Shared by the class tests and the class benchmark: the instructor's dashboard, fetched the way
 * the Class view fetches it (`GET /class/v1/state` with the instructor's token over the class's
 * HTTPS).
 */
import { request } from 'node:https';
import { text } from 'node:stream/consumers';
import type { ClassDashboard } from '../electron/api/class';

/**
 * The dashboard of the class served at `host`:`port`. Rejects with the host's answer when it
 * is not 200. The class's certificate is self-signed: the instructor's browser accepted it
 * once, so it is not verified here.
 */
export function instructorDashboard(host: string, port: number, token: string): Promise<ClassDashboard> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path: '/class/v1/state',
        headers: { authorization: `Bearer ${token}` },
        rejectUnauthorized: false,
      },
      (res) => {
        text(res).then(
          (body) =>
            res.statusCode === 200 ? resolve(JSON.parse(body) as ClassDashboard) : reject(new Error(body)),
          reject,
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}
