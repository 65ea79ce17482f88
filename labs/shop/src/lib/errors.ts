/**
 * An error the API reports as it is: an HTTP status, a stable code and a message. Module
 * interfaces throw these; the HTTP layer turns them into `{ "error": { code, message } }`,
 * and typed clients turn such a reply back into the same error, so a caller sees the same
 * failure whether the module runs in process or behind HTTP.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);
export const notFound = (code: string, message: string) => new HttpError(404, code, message);
