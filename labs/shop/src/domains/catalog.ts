/**
 * catalog: products, prices (in cents) and stock. Version 2 shows each product's rating.
 */
import type { Db } from '../lib/db';
import { migrate, transaction } from '../lib/db';
import { HttpError, notFound } from '../lib/errors';

export interface Product {
  id: string;
  name: string;
  description: string;
  /** Cents. */
  price: number;
  currency: 'EUR';
  stock: number;
  /** Version 2 only: average rating out of 5. */
  rating?: number;
}

export interface LineItem {
  productId: string;
  quantity: number;
}

export interface Catalog {
  list(): Promise<Product[]>;
  /** Throws 404 unknown-product. */
  get(id: string): Promise<Product>;
  /** Takes stock for every item, all or nothing. Throws 404 unknown-product or 409 out-of-stock. */
  reserve(items: LineItem[]): Promise<void>;
  /** Gives back what `reserve` took (a failed payment). */
  release(items: LineItem[]): Promise<void>;
  version(): Promise<Record<string, string>>;
}

export const catalogMethods = ['list', 'get', 'reserve', 'release', 'version'] as const;

const SEED: [string, string, string, number, number][] = [
  ['espresso-cup', 'Espresso cup', 'A thick porcelain cup that keeps a double shot hot.', 900, 4.6],
  ['pour-over', 'Pour-over dripper', 'Ceramic dripper for one or two cups.', 2400, 4.4],
  ['grinder', 'Hand grinder', 'Conical burrs, 30 steps, fits in a bag.', 6900, 4.8],
  ['kettle', 'Gooseneck kettle', 'A slow, precise pour for filter coffee.', 4500, 4.2],
  ['beans-ethiopia', 'Beans: Ethiopia Guji', '250 g, light roast, notes of peach and jasmine.', 1350, 4.7],
  ['beans-brazil', 'Beans: Brazil Cerrado', '250 g, medium roast, chocolate and nuts.', 1100, 4.1],
  ['scale', 'Coffee scale', '0.1 g resolution with a timer.', 3200, 4.3],
  ['filters', 'Paper filters', '100 bleached filters for the dripper.', 500, 3.9],
];

interface Row {
  id: string;
  name: string;
  description: string;
  price: number;
  stock: number;
  rating: string;
}

export class CatalogStore implements Catalog {
  constructor(
    private readonly db: Db,
    private readonly shopVersion: number,
    private readonly versionText: string,
  ) {}

  async init(): Promise<void> {
    await migrate(this.db, 'catalog', [
      `CREATE TABLE IF NOT EXISTS catalog.products (
         id text PRIMARY KEY, name text NOT NULL, description text NOT NULL,
         price integer NOT NULL CHECK (price >= 0), stock integer NOT NULL CHECK (stock >= 0),
         rating numeric(2,1) NOT NULL)`,
      {
        sql: `INSERT INTO catalog.products (id, name, description, price, stock, rating) VALUES
          ${SEED.map((_, i) => `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}, $${i * 5 + 4}, 1000000, $${i * 5 + 5})`).join(', ')}
          ON CONFLICT (id) DO NOTHING`,
        params: SEED.flat(),
      },
    ]);
  }

  private toProduct(row: Row): Product {
    const product: Product = {
      id: row.id,
      name: row.name,
      description: row.description,
      price: row.price,
      currency: 'EUR',
      stock: row.stock,
    };
    if (this.shopVersion >= 2) product.rating = Number(row.rating);
    return product;
  }

  async list(): Promise<Product[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM catalog.products ORDER BY name');
    return rows.map((r) => this.toProduct(r));
  }

  async get(id: string): Promise<Product> {
    const { rows } = await this.db.query<Row>('SELECT * FROM catalog.products WHERE id = $1', [id]);
    if (!rows[0]) throw notFound('unknown-product', `no product with id ${JSON.stringify(id)}`);
    return this.toProduct(rows[0]);
  }

  async reserve(items: LineItem[]): Promise<void> {
    await transaction(this.db, async (client) => {
      for (const item of items) {
        const { rows } = await client.query<{ stock: number }>(
          'UPDATE catalog.products SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING stock',
          [item.productId, item.quantity],
        );
        if (rows.length) continue;
        const exists = await client.query('SELECT 1 FROM catalog.products WHERE id = $1', [item.productId]);
        if (!exists.rowCount)
          throw notFound('unknown-product', `no product with id ${JSON.stringify(item.productId)}`);
        throw new HttpError(409, 'out-of-stock', `not enough ${item.productId} in stock`);
      }
    });
  }

  async release(items: LineItem[]): Promise<void> {
    for (const item of items) {
      await this.db.query('UPDATE catalog.products SET stock = stock + $2 WHERE id = $1', [
        item.productId,
        item.quantity,
      ]);
    }
  }

  async version(): Promise<Record<string, string>> {
    return { catalog: this.versionText };
  }
}
