/**
 * orders: checkout. It reads the cart and the prices, takes the stock, charges the payment,
 * records the order and clears the cart; if the payment fails, the stock goes back and the
 * cart stays as it was.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../lib/db';
import { migrate } from '../lib/db';
import { badRequest, notFound } from '../lib/errors';
import type { Cart } from './cart';
import type { Catalog } from './catalog';
import type { Card, Payments } from './payments';

export interface OrderItem {
  productId: string;
  name: string;
  price: number;
  quantity: number;
}

export interface Order {
  id: string;
  items: OrderItem[];
  total: number;
  currency: 'EUR';
  status: 'paid';
  card: { last4: string };
  paymentId: string;
  createdAt: string;
}

export interface Orders {
  /** Throws 400 cart-empty, 400 invalid-card, 402 payment-declined, 409 out-of-stock. */
  checkout(userId: string, card: Card): Promise<Order>;
  list(userId: string): Promise<Order[]>;
  /** Throws 404 unknown-order (also for another user's order). */
  get(userId: string, orderId: string): Promise<Order>;
  version(): Promise<Record<string, string>>;
  /** Every order so far, counted and summed (revenue in cents): what the reporting job reads. */
  totals(): Promise<OrderTotals>;
}

export interface OrderTotals {
  orders: number;
  revenue: number;
  currency: 'EUR';
}

export const ordersMethods = ['checkout', 'list', 'get', 'version', 'totals'] as const;

interface Row {
  id: string;
  items: OrderItem[];
  total: number;
  status: 'paid';
  last4: string;
  payment_id: string;
  created_at: Date;
}

const toOrder = (r: Row): Order => ({
  id: r.id,
  items: r.items,
  total: r.total,
  currency: 'EUR',
  status: r.status,
  card: { last4: r.last4 },
  paymentId: r.payment_id,
  createdAt: r.created_at.toISOString(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class OrdersStore implements Orders {
  constructor(
    private readonly db: Db,
    private readonly cart: Cart,
    private readonly catalog: Catalog,
    private readonly payments: Payments,
    private readonly versionText: string,
  ) {}

  async init(): Promise<void> {
    await migrate(this.db, 'orders', [
      `CREATE TABLE IF NOT EXISTS orders.orders (
         id uuid PRIMARY KEY, user_id uuid NOT NULL, items jsonb NOT NULL, total integer NOT NULL,
         status text NOT NULL, last4 text NOT NULL, payment_id uuid NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now())`,
      'CREATE INDEX IF NOT EXISTS orders_by_user ON orders.orders (user_id, created_at)',
    ]);
  }

  async checkout(userId: string, card: Card): Promise<Order> {
    const lineItems = await this.cart.items(userId);
    if (lineItems.length === 0) throw badRequest('cart-empty', 'the cart is empty: add a product first');
    const items: OrderItem[] = await Promise.all(
      lineItems.map(async ({ productId, quantity }) => {
        const p = await this.catalog.get(productId);
        return { productId, name: p.name, price: p.price, quantity };
      }),
    );
    const total = items.reduce((sum, i) => sum + i.price * i.quantity, 0);
    const id = randomUUID();
    await this.catalog.reserve(lineItems);
    let charge;
    try {
      charge = await this.payments.charge({ amount: total, currency: 'EUR', card, reference: id });
    } catch (err) {
      await this.catalog.release(lineItems);
      throw err;
    }
    const { rows } = await this.db.query<Row>(
      `INSERT INTO orders.orders (id, user_id, items, total, status, last4, payment_id)
       VALUES ($1, $2, $3, $4, 'paid', $5, $6) RETURNING *`,
      [id, userId, JSON.stringify(items), total, charge.last4, charge.id],
    );
    await this.cart.clear(userId);
    return toOrder(rows[0]!);
  }

  async list(userId: string): Promise<Order[]> {
    const { rows } = await this.db.query<Row>(
      'SELECT * FROM orders.orders WHERE user_id = $1 ORDER BY created_at DESC, id',
      [userId],
    );
    return rows.map(toOrder);
  }

  async get(userId: string, orderId: string): Promise<Order> {
    const missing = notFound('unknown-order', `no order with id ${JSON.stringify(orderId)}`);
    if (!UUID.test(orderId)) throw missing;
    const { rows } = await this.db.query<Row>('SELECT * FROM orders.orders WHERE id = $1 AND user_id = $2', [
      orderId,
      userId,
    ]);
    if (!rows[0]) throw missing;
    return toOrder(rows[0]);
  }

  async totals(): Promise<OrderTotals> {
    const { rows } = await this.db.query<{ orders: number; revenue: number }>(
      'SELECT count(*)::int AS orders, coalesce(sum(total), 0)::int AS revenue FROM orders.orders',
    );
    return { orders: rows[0]!.orders, revenue: rows[0]!.revenue, currency: 'EUR' };
  }

  async version(): Promise<Record<string, string>> {
    return { orders: this.versionText, ...(await this.payments.version()) };
  }
}
