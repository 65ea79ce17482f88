/**
 * The storefront: one page that uses only the public /api (browse, sign up or log in, add
 * to the cart, check out, see orders). Plain DOM, no framework, nothing loaded from outside.
 */
export const STOREFRONT_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>MicroLab coffee shop</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #faf8f5; }
  header { background: #3b2a20; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 18px; margin: 0; flex: 1; }
  main { display: grid; grid-template-columns: 2fr 1fr; gap: 20px; padding: 20px; max-width: 1100px; margin: auto; }
  .products { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
  .card, aside section { background: #fff; border: 1px solid #e4ded6; border-radius: 8px; padding: 12px; }
  aside section { margin-bottom: 16px; }
  button { background: #7a4b2a; color: #fff; border: 0; border-radius: 4px; padding: 6px 10px; cursor: pointer; }
  input { width: 100%; box-sizing: border-box; margin: 2px 0 6px; padding: 5px; }
  .price { font-weight: 600; } .rating { color: #b8860b; } .muted { color: #777; font-size: 13px; }
  #message { min-height: 1.4em; color: #a33; }
</style>
</head>
<body>
<header><h1>MicroLab coffee shop</h1><span id="who" class="muted"></span><span id="version" class="muted"></span></header>
<main>
  <div><p id="message"></p><div class="products" id="products"></div></div>
  <aside>
    <section id="account">
      <h3>Account</h3>
      <input id="email" placeholder="email" autocomplete="username">
      <input id="password" type="password" placeholder="password (8+ characters)" autocomplete="current-password">
      <input id="name" placeholder="name (to sign up)">
      <button id="login">Log in</button> <button id="signup">Sign up</button>
    </section>
    <section><h3>Cart</h3><div id="cart" class="muted">Log in to shop.</div>
      <input id="card" placeholder="card number" value="4242 4242 4242 4242">
      <input id="expiry" placeholder="MM/YY" value="12/30"><input id="cvc" placeholder="CVC" value="123">
      <button id="checkout">Check out</button></section>
    <section><h3>Orders</h3><div id="orders" class="muted">None yet.</div></section>
  </aside>
</main>
<script>
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('token');
const euro = (cents) => (cents / 100).toFixed(2) + ' €';
async function api(method, path, body) {
  const res = await fetch(path, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json();
  if (!res.ok) throw new Error(data.error ? data.error.message : res.statusText);
  return data;
}
function say(text) { $('message').textContent = text || ''; }
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
async function products() {
  const list = await api('GET', '/api/products');
  $('products').replaceChildren(...list.map((p) => {
    const card = el('div', undefined, 'card');
    card.append(el('h4', p.name), el('p', p.description, 'muted'), el('div', euro(p.price), 'price'));
    if (p.rating !== undefined) card.append(el('div', '★ ' + p.rating.toFixed(1), 'rating'));
    const add = el('button', 'Add to cart');
    add.onclick = () => api('POST', '/api/cart/items', { productId: p.id, quantity: 1 }).then(showCart).catch((e) => say(e.message));
    card.append(add);
    return card;
  }));
}
function showCart(cart) {
  if (!cart.items.length) return $('cart').replaceChildren(el('span', 'Empty.'));
  $('cart').replaceChildren(...cart.items.map((i) => {
    const row = el('div', i.quantity + ' × ' + i.name + ' ' + euro(i.lineTotal) + ' ');
    const remove = el('button', '×');
    remove.onclick = () => api('DELETE', '/api/cart/items/' + encodeURIComponent(i.productId)).then(showCart).catch((e) => say(e.message));
    row.append(remove);
    return row;
  }), el('div', 'Total ' + euro(cart.total), 'price'));
}
async function refresh() {
  say('');
  const v = await api('GET', '/api/version');
  $('version').textContent = 'catalog ' + v.parts.catalog;
  await products();
  if (!token) return;
  try {
    const me = await api('GET', '/api/me');
    $('who').textContent = me.name + ' <' + me.email + '>';
    showCart(await api('GET', '/api/cart'));
    const orders = await api('GET', '/api/orders');
    $('orders').replaceChildren(...orders.map((o) => el('div', new Date(o.createdAt).toLocaleString() + ': ' + euro(o.total) + ' (card …' + o.card.last4 + ')')));
  } catch (e) { token = null; sessionStorage.removeItem('token'); say(e.message); }
}
async function login() {
  token = (await api('POST', '/api/login', { email: $('email').value, password: $('password').value })).token;
  sessionStorage.setItem('token', token);
  await refresh();
}
$('login').onclick = () => login().catch((e) => say(e.message));
$('signup').onclick = () => api('POST', '/api/users', { email: $('email').value, password: $('password').value, name: $('name').value }).then(login).catch((e) => say(e.message));
$('checkout').onclick = () => api('POST', '/api/orders', { card: { number: $('card').value, expiry: $('expiry').value, cvc: $('cvc').value } }).then(() => refresh()).then(() => say('Thank you for your order.')).catch((e) => say(e.message));
refresh().catch((e) => say(e.message));
</script>
</body>
</html>
`;
