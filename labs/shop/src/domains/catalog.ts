/**
 * catalog: products, prices (in cents) and stock, and a product search that ranks them.
 * Version 2 shows each product's rating. Versions 3 and 4 are version 2 broken on purpose, for
 * the labs' bad-release experiment:
 *   3  a functional bug: `reserve` sends Postgres a statement with a misspelt column, so every
 *      reservation (and with it every checkout) fails with a 500; everything else works and
 *      the health checks pass;
 *   4  a process-level fault: two seconds after the process first answered its readiness check,
 *      the catalog's cache refresh waits for a lock that nothing ever releases, on the process's
 *      only thread. The process stays up and answers nothing more: every module that shares the
 *      process with the catalog stops with it.
 */
import { log } from '../lib/log';
import type { Db } from '../lib/db';
import { migrate, transaction } from '../lib/db';
import { badRequest, HttpError, notFound } from '../lib/errors';

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

export interface SearchHit {
  id: string;
  name: string;
  /** Cents. */
  price: number;
  /** Relevance, higher first. */
  score: number;
}

export interface Catalog {
  list(): Promise<Product[]>;
  /**
   * The products ranked for `query` (at most 100 characters; 400 invalid-query beyond). CPU-bound
   * on purpose: ranking does a fixed amount of work per product (RANKING_ROUNDS), a stand-in for
   * a real ranking model, so a busy catalog saturates its CPU before anything else.
   */
  search(query: string): Promise<{ query: string; hits: SearchHit[] }>;
  /** Throws 404 unknown-product. */
  get(id: string): Promise<Product>;
  /** Takes stock for every item, all or nothing. Throws 404 unknown-product or 409 out-of-stock. */
  reserve(items: LineItem[]): Promise<void>;
  /** Gives back what `reserve` took (a failed payment). */
  release(items: LineItem[]): Promise<void>;
  version(): Promise<Record<string, string>>;
}

export const catalogMethods = ['list', 'search', 'get', 'reserve', 'release', 'version'] as const;

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

/**
 * Rounds of feature hashing per product in a search: 5 to 10 ms of one laptop core per search
 * (8 products), so a replica limited to a quarter of a CPU serves a few tens of searches a second.
 */
export const RANKING_ROUNDS = 6000;
/** How long the product list a search ranks is reused before it is read again (ms). */
const SEARCH_CACHE_MS = 1000;
/** Version 4: how long after its first readiness answer the process deadlocks (ms). */
export const FAULT_AFTER_READY_MS = 2000;

/** The trigrams of a lower-cased text. */
function trigrams(text: string): Set<string> {
  const t = ` ${text.toLowerCase()} `;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= t.length; i++) out.add(t.slice(i, i + 3));
  return out;
}

/**
 * How well `text` matches `query`: the share of the query's trigrams found in the text, plus a
 * small weight (under 0.01) from the pair's features hashed `rounds` times: the deliberate CPU cost.
 */
export function rank(query: string, text: string, rounds = RANKING_ROUNDS): number {
  const q = trigrams(query);
  const t = trigrams(text);
  let shared = 0;
  for (const g of q) if (t.has(g)) shared++;
  const relevance = q.size ? shared / q.size : 0;
  let features = 0;
  const pair = `${query}\u0000${text}`;
  for (let r = 0; r < Math.max(1, rounds); r++) {
    let h = 2166136261 ^ r;
    for (let i = 0; i < pair.length; i++) {
      h ^= pair.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    features ^= h;
  }
  const weight = ((features >>> 0) % 1000) / 100_000;
  return Math.round((relevance + weight) * 10_000) / 10_000;
}

interface Row {
  id: string;
  name: string;
  description: string;
  price: number;
  stock: number;
  rating: string;
}

export class CatalogStore implements Catalog {
  private cached?: { at: number; rows: Promise<Row[]> };
  private faultArmed = false;

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

  async search(query: string): Promise<{ query: string; hits: SearchHit[] }> {
    if (typeof query !== 'string' || query.length > 100)
      throw badRequest('invalid-query', 'a search query is a text of at most 100 characters');
    if (!this.cached || Date.now() - this.cached.at > SEARCH_CACHE_MS) {
      const rows = this.db.query<Row>('SELECT * FROM catalog.products ORDER BY name').then((r) => r.rows);
      this.cached = { at: Date.now(), rows };
      rows.catch(() => (this.cached = undefined));
    }
    const rows = await this.cached.rows;
    const hits = rows
      .map((r) => ({
        id: r.id,
        name: r.name,
        price: r.price,
        score: rank(query, `${r.name} ${r.description}`),
      }))
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
    return { query, hits };
  }

  /**
   * Called once, when the process first answered its readiness check. Version 4's fault starts
   * here: its cache refresh blocks the process's one thread on a lock nobody releases
   * (Atomics.wait: the process uses no CPU, answers nothing, and ignores SIGTERM).
   */
  afterReady(): void {
    if (this.shopVersion !== 4 || this.faultArmed) return;
    this.faultArmed = true;
    setTimeout(() => {
      log('warn', 'catalog cache refresh: waiting for the cache lock', { version: this.versionText });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }, FAULT_AFTER_READY_MS);
  }

  async get(id: string): Promise<Product> {
    const { rows } = await this.db.query<Row>('SELECT * FROM catalog.products WHERE id = $1', [id]);
    if (!rows[0]) throw notFound('unknown-product', `no product with id ${JSON.stringify(id)}`);
    return this.toProduct(rows[0]);
  }

  async reserve(items: LineItem[]): Promise<void> {
    await transaction(this.db, async (client) => {
      for (const item of items) {
        // Version 3's bug: a misspelt column, so Postgres refuses the statement (a 500).
        const column = this.shopVersion === 3 ? 'stok' : 'stock';
        const { rows } = await client.query<{ stock: number }>(
          `UPDATE catalog.products SET stock = stock - $2 WHERE id = $1 AND ${column} >= $2 RETURNING stock`,
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
