/**
 * users: sign-up, login and sessions. Passwords are kept as scrypt hashes; a session is a
 * random bearer token.
 */
import { randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import type { Db } from '../lib/db';
import { migrate } from '../lib/db';
import { badRequest, HttpError } from '../lib/errors';

export interface User {
  id: string;
  email: string;
  name: string;
  createdAt: string;
}

export interface SignUp {
  email: string;
  password: string;
  name: string;
}

export interface Users {
  /** Throws 400 invalid-user or 409 email-taken. */
  signUp(input: SignUp): Promise<User>;
  /** Throws 401 invalid-credentials. */
  login(email: string, password: string): Promise<{ token: string }>;
  /** The user a token belongs to. Throws 401 unauthorized. */
  authenticate(token: string): Promise<User>;
  version(): Promise<Record<string, string>>;
}

export const usersMethods = ['signUp', 'login', 'authenticate', 'version'] as const;

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/;

function hash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    // N=4096 keeps a login cheap enough for the load generator on a laptop.
    scrypt(password, salt, 32, { N: 4096 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

interface Row {
  id: string;
  email: string;
  name: string;
  created_at: Date;
}

const toUser = (r: Row): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  createdAt: r.created_at.toISOString(),
});

export class UsersStore implements Users {
  constructor(
    private readonly db: Db,
    private readonly versionText: string,
  ) {}

  async init(): Promise<void> {
    await migrate(this.db, 'users', [
      `CREATE TABLE IF NOT EXISTS users.users (
         id uuid PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL,
         salt bytea NOT NULL, password_hash bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE IF NOT EXISTS users.sessions (
         token text PRIMARY KEY, user_id uuid NOT NULL REFERENCES users.users(id),
         created_at timestamptz NOT NULL DEFAULT now())`,
    ]);
  }

  async signUp({ email, password, name }: SignUp): Promise<User> {
    if (typeof email !== 'string' || !EMAIL.test(email))
      throw badRequest('invalid-user', 'email is not an email address');
    if (typeof password !== 'string' || password.length < 8 || password.length > 200)
      throw badRequest('invalid-user', 'password must be 8 to 200 characters');
    if (typeof name !== 'string' || !name.trim() || name.length > 100)
      throw badRequest('invalid-user', 'name must be 1 to 100 characters');
    const salt = randomBytes(16);
    const passwordHash = await hash(password, salt);
    try {
      const { rows } = await this.db.query<Row>(
        `INSERT INTO users.users (id, email, name, salt, password_hash) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, email, name, created_at`,
        [randomUUID(), email.toLowerCase(), name.trim(), salt, passwordHash],
      );
      return toUser(rows[0]!);
    } catch (err) {
      if ((err as { code?: string }).code === '23505')
        throw new HttpError(409, 'email-taken', `${email} already has an account`);
      throw err;
    }
  }

  async login(email: string, password: string): Promise<{ token: string }> {
    const invalid = new HttpError(401, 'invalid-credentials', 'wrong email or password');
    if (typeof email !== 'string' || typeof password !== 'string') throw invalid;
    const { rows } = await this.db.query<{ id: string; salt: Buffer; password_hash: Buffer }>(
      'SELECT id, salt, password_hash FROM users.users WHERE email = $1',
      [email.toLowerCase()],
    );
    const row = rows[0];
    if (!row || !timingSafeEqual(await hash(password, row.salt), row.password_hash)) throw invalid;
    const token = randomBytes(24).toString('base64url');
    await this.db.query('INSERT INTO users.sessions (token, user_id) VALUES ($1, $2)', [token, row.id]);
    return { token };
  }

  async authenticate(token: string): Promise<User> {
    const { rows } = await this.db.query<Row>(
      `SELECT u.id, u.email, u.name, u.created_at FROM users.sessions s JOIN users.users u ON u.id = s.user_id
       WHERE s.token = $1`,
      [String(token)],
    );
    if (!rows[0]) throw new HttpError(401, 'unauthorized', 'log in first (Authorization: Bearer <token>)');
    return toUser(rows[0]);
  }

  async version(): Promise<Record<string, string>> {
    return { users: this.versionText };
  }
}
