/**
 * The gateway: the public `/api/*` (see openapi.yaml) and the storefront page. It checks the
 * session and the shape of each request, then calls the modules through their interfaces: in
 * process in the monolith, over HTTP in the microservices. It never calls payments.
 */
import type { Cart } from './domains/cart';
import type { Catalog } from './domains/catalog';
import type { Orders } from './domains/orders';
import { validateCard } from './domains/payments';
import type { User, Users } from './domains/users';
import { badRequest, HttpError } from './lib/errors';
import type { Request, Router } from './lib/http';
import { Reply } from './lib/http';
import { STOREFRONT_HTML } from './storefront';

export interface GatewayDeps {
  catalog: Catalog;
  cart: Cart;
  orders: Orders;
  users: Users;
  versionText: string;
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('invalid-body', 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

function text(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') throw badRequest('invalid-body', `${field} must be a string`);
  return value;
}

export function gatewayRoutes(router: Router, deps: GatewayDeps): void {
  const { catalog, cart, orders, users } = deps;

  const authenticate = async (req: Request): Promise<User> => {
    const match = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''));
    if (!match) throw new HttpError(401, 'unauthorized', 'log in first (Authorization: Bearer <token>)');
    return users.authenticate(match[1]!);
  };

  router
    .on('GET', '/', async () => new Reply(200, STOREFRONT_HTML, 'text/html; charset=utf-8'))
    .on('GET', '/api/products', () => catalog.list())
    .on('GET', '/api/products/:id', (req) => catalog.get(req.params.id!))
    .on('GET', '/api/search', (req) => catalog.search(req.query.get('q') ?? ''))
    .on('POST', '/api/users', async (req) => {
      const body = object(await req.json());
      const user = await users.signUp({
        email: text(body, 'email'),
        password: text(body, 'password'),
        name: text(body, 'name'),
      });
      return new Reply(201, user);
    })
    .on('POST', '/api/login', async (req) => {
      const body = object(await req.json());
      return users.login(text(body, 'email'), text(body, 'password'));
    })
    .on('GET', '/api/me', (req) => authenticate(req))
    .on('GET', '/api/cart', async (req) => cart.view((await authenticate(req)).id))
    .on('POST', '/api/cart/items', async (req) => {
      const user = await authenticate(req);
      const body = object(await req.json());
      const quantity = body.quantity ?? 1;
      if (typeof quantity !== 'number') throw badRequest('invalid-quantity', 'quantity must be a number');
      return cart.add(user.id, text(body, 'productId'), quantity);
    })
    .on('DELETE', '/api/cart/items/:productId', async (req) =>
      cart.remove((await authenticate(req)).id, req.params.productId!),
    )
    .on('POST', '/api/orders', async (req) => {
      const user = await authenticate(req);
      const body = object(await req.json());
      const card = validateCard(body.card);
      return new Reply(201, await orders.checkout(user.id, card));
    })
    .on('GET', '/api/orders', async (req) => orders.list((await authenticate(req)).id))
    .on('GET', '/api/orders/:id', async (req) => orders.get((await authenticate(req)).id, req.params.id!))
    .on('GET', '/api/version', async () => {
      const parts = await Promise.all([catalog.version(), cart.version(), orders.version(), users.version()]);
      const merged = Object.assign({ gateway: deps.versionText }, ...parts) as Record<string, string>;
      return {
        app: 'microlab-shop',
        parts: Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b))),
      };
    });
}
