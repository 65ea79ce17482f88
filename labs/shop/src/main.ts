/**
 * One program, several roles (SHOP_ROLE): the monolith runs every module in process; each
 * microservice runs one module and reaches the others through typed HTTP clients. Addresses
 * come from the environment (CATALOG_URL, ...; the default is http://<service>:8080) and
 * DATABASE_URL names the database of the module(s) the process owns.
 *
 * Every process answers /healthz (alive) and /readyz (its database and the services it
 * calls answer). The process that owns the orders (the monolith, or the orders service) also
 * answers `GET /internal/orders/totals` for the reporting job (SHOP_ROLE=reporting), a
 * neighbour that reads them every few seconds. SHOP_ROLE=balancer is the monolith's load
 * balancer when it runs several replicas (balancer.ts).
 */
import type { Cart } from './domains/cart';
import { cartMethods, CartStore } from './domains/cart';
import type { Catalog } from './domains/catalog';
import { catalogMethods, CatalogStore } from './domains/catalog';
import type { Orders } from './domains/orders';
import { ordersMethods, OrdersStore } from './domains/orders';
import type { Payments } from './domains/payments';
import { paymentsMethods, PaymentsStore } from './domains/payments';
import type { Users } from './domains/users';
import { usersMethods, UsersStore } from './domains/users';
import { startBalancer } from './balancer';
import { gatewayRoutes } from './gateway';
import { runLoad } from './loadgen/run';
import { ServiceClient } from './lib/client';
import type { Role } from './lib/config';
import { env, role, shopVersion, versionString } from './lib/config';
import type { Db } from './lib/db';
import { connect, databaseUnavailable } from './lib/db';
import { HttpError } from './lib/errors';
import { Router, serve } from './lib/http';
import { log, setLogRole } from './lib/log';
import { expose, remote } from './lib/rpc';
import { startReporting } from './reporting/job';

/** The internal endpoint the reporting job calls, served by the owner of the orders. */
const TOTALS_PATH = '/internal/orders/totals';

type Service = 'catalog' | 'cart' | 'orders' | 'payments' | 'users';

function client(service: Service): ServiceClient {
  return new ServiceClient(service, env(`${service.toUpperCase()}_URL`, `http://${service}:8080`));
}

const remotes = {
  catalog: (c: ServiceClient) => remote<Catalog>('catalog', c, catalogMethods),
  cart: (c: ServiceClient) => remote<Cart>('cart', c, cartMethods),
  orders: (c: ServiceClient) => remote<Orders>('orders', c, ordersMethods),
  payments: (c: ServiceClient) => remote<Payments>('payments', c, paymentsMethods),
  users: (c: ServiceClient) => remote<Users>('users', c, usersMethods),
};

interface Wiring {
  /** Creates schemas; retried until the database answers. */
  init: () => Promise<void>;
  /** What /readyz checks besides init having finished. */
  ready: () => Promise<unknown>;
  /** Called once, after the first readiness answer that said ready. */
  afterReady?: () => void;
  db?: Db;
}

function wire(r: Exclude<Role, 'loadgen' | 'balancer'>, router: Router): Wiring {
  if (r === 'reporting') {
    let ready: () => Promise<void> = () => Promise.reject(new Error('not started'));
    return {
      init: async () => {
        ready = startReporting(router);
      },
      ready: () => ready(),
    };
  }
  const version = versionString();
  // A monolith copy's pool serves every module; shop-db takes 38 connections, so four copies
  // (three and a fourth starting in a roll) must stay under it.
  const db = r === 'gateway' ? undefined : connect(env('DATABASE_URL'), r === 'monolith' ? 8 : 5);
  const dbReady = () => db!.query('SELECT 1');
  const clients = new Map<Service, ServiceClient>();
  const use = <S extends Service>(s: S) => {
    const c = clients.get(s) ?? client(s);
    clients.set(s, c);
    return remotes[s](c) as ReturnType<(typeof remotes)[S]>;
  };
  const depsReady = () =>
    Promise.all([...clients.values()].map((c) => c.request('GET', '/healthz'))).then(() =>
      db ? dbReady() : undefined,
    );

  switch (r) {
    case 'monolith': {
      const catalog = new CatalogStore(db!, shopVersion(), version);
      const payments = new PaymentsStore(db!, version);
      const users = new UsersStore(db!, version);
      const cart = new CartStore(db!, catalog, version);
      const orders = new OrdersStore(db!, cart, catalog, payments, version);
      gatewayRoutes(router, { catalog, cart, orders, users, versionText: version });
      router.on('GET', TOTALS_PATH, () => orders.totals());
      return {
        db,
        init: async () => {
          for (const store of [catalog, payments, users, cart, orders]) await store.init();
        },
        ready: dbReady,
        afterReady: () => catalog.afterReady(),
      };
    }
    case 'gateway':
      gatewayRoutes(router, {
        catalog: use('catalog'),
        cart: use('cart'),
        orders: use('orders'),
        users: use('users'),
        versionText: version,
      });
      return { init: async () => undefined, ready: depsReady };
    case 'catalog': {
      const store = new CatalogStore(db!, shopVersion(), version);
      expose(router, 'catalog', store, catalogMethods);
      return { db, init: () => store.init(), ready: depsReady, afterReady: () => store.afterReady() };
    }
    case 'cart': {
      const store = new CartStore(db!, use('catalog'), version);
      expose(router, 'cart', store, cartMethods);
      return { db, init: () => store.init(), ready: depsReady };
    }
    case 'orders': {
      const store = new OrdersStore(db!, use('cart'), use('catalog'), use('payments'), version);
      expose(router, 'orders', store, ordersMethods);
      router.on('GET', TOTALS_PATH, () => store.totals());
      return { db, init: () => store.init(), ready: depsReady };
    }
    case 'payments': {
      const store = new PaymentsStore(db!, version);
      expose(router, 'payments', store, paymentsMethods);
      return { db, init: () => store.init(), ready: depsReady };
    }
    case 'users': {
      const store = new UsersStore(db!, version);
      expose(router, 'users', store, usersMethods);
      return { db, init: () => store.init(), ready: depsReady };
    }
  }
}

async function main(): Promise<void> {
  const r = role();
  setLogRole(r);
  if (r === 'loadgen') {
    await runLoad();
    process.exit(0);
  }
  if (r === 'balancer') return startBalancer();
  const router = new Router();
  let initialized = false;
  let answeredReady = false;
  router.on('GET', '/healthz', async () => ({ status: 'ok', role: r, version: versionString() }));
  const wiring = wire(r, router);
  router.on('GET', '/readyz', async () => {
    if (!initialized) throw new HttpError(503, 'starting', 'still starting');
    try {
      await wiring.ready();
    } catch (err) {
      throw new HttpError(503, 'not-ready', `a dependency does not answer: ${(err as Error).message}`);
    }
    if (!answeredReady) {
      answeredReady = true;
      wiring.afterReady?.();
    }
    return { status: 'ready' };
  });
  serve({
    port: Number(env('PORT', '8080')),
    router,
    quiet: ['/healthz', '/readyz'],
    mapError: databaseUnavailable,
    onStop: async () => {
      await wiring.db?.end();
    },
  });
  for (let attempt = 1; !initialized; attempt++) {
    try {
      await wiring.init();
      initialized = true;
      log('info', 'ready', { version: versionString() });
    } catch (err) {
      if (attempt % 20 === 1) log('warn', 'waiting for the database', { error: (err as Error).message });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

main().catch((err: unknown) => {
  log('error', 'fatal', { error: (err as Error).message });
  process.exit(1);
});
