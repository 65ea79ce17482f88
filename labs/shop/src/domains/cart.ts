/**
 * cart: what each user is about to buy. It asks the catalog for names and prices, so a cart
 * always shows current prices.
 */
import type { Db } from '../lib/db';
import { migrate } from '../lib/db';
import { badRequest, notFound } from '../lib/errors';
import type { Catalog, LineItem } from './catalog';

export interface CartLine {
  productId: string;
  name: string;
  price: number;
  quantity: number;
  lineTotal: number;
}

export interface CartView {
  items: CartLine[];
  total: number;
  currency: 'EUR';
}

export interface Cart {
  view(userId: string): Promise<CartView>;
  /** Adds `quantity` (1..99) of a product. Throws 404 unknown-product or 400 invalid-quantity. */
  add(userId: string, productId: string, quantity: number): Promise<CartView>;
  /** Throws 404 not-in-cart. */
  remove(userId: string, productId: string): Promise<CartView>;
  /** The raw items, for checkout. */
  items(userId: string): Promise<LineItem[]>;
  clear(userId: string): Promise<void>;
  version(): Promise<Record<string, string>>;
}

export const cartMethods = ['view', 'add', 'remove', 'items', 'clear', 'version'] as const;

export const MAX_QUANTITY = 99;

export class CartStore implements Cart {
  constructor(
    private readonly db: Db,
    private readonly catalog: Catalog,
    private readonly versionText: string,
  ) {}

  async init(): Promise<void> {
    await migrate(this.db, 'cart', [
      `CREATE TABLE IF NOT EXISTS cart.items (
         user_id uuid NOT NULL, product_id text NOT NULL, quantity integer NOT NULL CHECK (quantity > 0),
         added_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (user_id, product_id))`,
    ]);
  }

  async items(userId: string): Promise<LineItem[]> {
    const { rows } = await this.db.query<{ product_id: string; quantity: number }>(
      'SELECT product_id, quantity FROM cart.items WHERE user_id = $1 ORDER BY added_at, product_id',
      [userId],
    );
    return rows.map((r) => ({ productId: r.product_id, quantity: r.quantity }));
  }

  async view(userId: string): Promise<CartView> {
    const items = await this.items(userId);
    const lines = await Promise.all(
      items.map(async ({ productId, quantity }) => {
        const product = await this.catalog.get(productId);
        return {
          productId,
          name: product.name,
          price: product.price,
          quantity,
          lineTotal: product.price * quantity,
        };
      }),
    );
    return { items: lines, total: lines.reduce((sum, l) => sum + l.lineTotal, 0), currency: 'EUR' };
  }

  async add(userId: string, productId: string, quantity: number): Promise<CartView> {
    if (typeof productId !== 'string' || !productId)
      throw badRequest('invalid-item', 'productId is required');
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY)
      throw badRequest('invalid-quantity', `quantity must be a whole number from 1 to ${MAX_QUANTITY}`);
    await this.catalog.get(productId);
    const { rows } = await this.db.query<{ quantity: number }>(
      `INSERT INTO cart.items (user_id, product_id, quantity) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = cart.items.quantity + EXCLUDED.quantity
       WHERE cart.items.quantity + EXCLUDED.quantity <= ${MAX_QUANTITY}
       RETURNING quantity`,
      [userId, productId, quantity],
    );
    if (!rows.length) throw badRequest('invalid-quantity', `at most ${MAX_QUANTITY} of one product per cart`);
    return this.view(userId);
  }

  async remove(userId: string, productId: string): Promise<CartView> {
    const result = await this.db.query('DELETE FROM cart.items WHERE user_id = $1 AND product_id = $2', [
      userId,
      productId,
    ]);
    if (!result.rowCount) throw notFound('not-in-cart', `${JSON.stringify(productId)} is not in the cart`);
    return this.view(userId);
  }

  async clear(userId: string): Promise<void> {
    await this.db.query('DELETE FROM cart.items WHERE user_id = $1', [userId]);
  }

  async version(): Promise<Record<string, string>> {
    return { cart: this.versionText };
  }
}
