/**
 * payments: the sensitive module. It charges a card and keeps only a token and the last four
 * digits, never the number. Only orders calls it, and only it touches its data.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../lib/db';
import { migrate } from '../lib/db';
import { badRequest, HttpError } from '../lib/errors';

export interface Card {
  number: string;
  /** MM/YY */
  expiry: string;
  cvc: string;
}

export interface ChargeRequest {
  amount: number;
  currency: 'EUR';
  card: Card;
  /** The order being paid. */
  reference: string;
}

export interface Charge {
  id: string;
  status: 'captured';
  last4: string;
}

export interface Payments {
  /** Throws 400 invalid-card or 402 payment-declined. */
  charge(request: ChargeRequest): Promise<Charge>;
  version(): Promise<Record<string, string>>;
}

export const paymentsMethods = ['charge', 'version'] as const;

/** A test card number that always gets declined, like a payment provider's. */
export const DECLINED_CARD = '4000000000000002';

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** Checks a card's shape; the same check runs at the gateway before anything changes. */
export function validateCard(card: unknown): Card {
  const c = card as Partial<Card> | undefined;
  const number = typeof c?.number === 'string' ? c.number.replace(/[\s-]/g, '') : '';
  if (!/^\d{12,19}$/.test(number) || !luhn(number))
    throw badRequest('invalid-card', 'card number is not valid');
  const expiry = /^(\d{2})\/(\d{2})$/.exec(String(c?.expiry ?? ''));
  const month = Number(expiry?.[1]);
  if (!expiry || month < 1 || month > 12) throw badRequest('invalid-card', 'expiry must be MM/YY');
  if (!/^\d{3,4}$/.test(String(c?.cvc ?? ''))) throw badRequest('invalid-card', 'cvc must be 3 or 4 digits');
  return { number, expiry: expiry[0], cvc: String(c?.cvc) };
}

export class PaymentsStore implements Payments {
  constructor(
    private readonly db: Db,
    private readonly versionText: string,
  ) {}

  async init(): Promise<void> {
    await migrate(this.db, 'payments', [
      `CREATE TABLE IF NOT EXISTS payments.charges (
         id uuid PRIMARY KEY, reference text NOT NULL, amount integer NOT NULL, currency text NOT NULL,
         card_token text NOT NULL, last4 text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    ]);
  }

  async charge({ amount, currency, card, reference }: ChargeRequest): Promise<Charge> {
    const valid = validateCard(card);
    if (!Number.isInteger(amount) || amount <= 0)
      throw badRequest('invalid-amount', 'amount must be positive cents');
    if (valid.number === DECLINED_CARD) throw new HttpError(402, 'payment-declined', 'the card was declined');
    const charge: Charge = { id: randomUUID(), status: 'captured', last4: valid.number.slice(-4) };
    await this.db.query(
      `INSERT INTO payments.charges (id, reference, amount, currency, card_token, last4) VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        charge.id,
        String(reference),
        amount,
        currency,
        `tok_${randomBytes(12).toString('hex')}`,
        charge.last4,
      ],
    );
    return charge;
  }

  async version(): Promise<Record<string, string>> {
    return { payments: this.versionText };
  }
}
