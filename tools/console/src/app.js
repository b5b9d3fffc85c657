// The console's shell: sign-in with a token, the pages a role may use, and
// hash routes so every page has a URL a colleague can open.
import {api, token} from './api.js';
import {h, clear, errorBox} from './dom.js';
import * as decisions from './page-decisions.js';
import * as decision from './page-decision.js';
import * as integrity from './page-integrity.js';
import * as impact from './page-impact.js';
import * as policy from './page-policy.js';
import * as playground from './page-playground.js';
import * as statistics from './page-statistics.js';

// Which role sees which page; the API refuses the others anyway.
const PAGES = [
  {path: 'decisions', title: 'Decisions', module: decisions, roles: ['auditor']},
  {path: 'integrity', title: 'Integrity', module: integrity, roles: ['auditor']},
  {path: 'impact', title: 'Impact', module: impact, roles: ['auditor']},
  {path: 'statistics', title: 'Statistics', module: statistics, roles: ['auditor']},
  {path: 'policy', title: 'Policy', module: policy, roles: ['auditor', 'admin', 'decider']},
  {path: 'playground', title: 'Playground', module: playground, roles: ['auditor', 'admin']},
];

let me = null;  // {name, role}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [pathPart, query = ''] = raw.split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return {parts, query: new URLSearchParams(query)};
}

export function go(path) { location.hash = `#/${path}`; }

function renderNav(current) {
  const nav = clear(document.getElementById('nav'));
  if (!me) return;
  for (const p of PAGES.filter((p) => p.roles.includes(me.role))) {
    nav.append(h('a', {href: `#/${p.path}`, class: p.path === current ? 'active' : null,
      'aria-current': p.path === current ? 'page' : null}, p.title));
  }
  const who = clear(document.getElementById('who'));
  who.append(h('span', {}, `${me.name} (${me.role})`),
    h('button', {type: 'button', class: 'link', on: {click: signOut}}, 'Sign out'));
}

function signOut() {
  token.clear();
  me = null;
  go('login');
}

function loginPage(main, message) {
  clear(document.getElementById('nav'));
  clear(document.getElementById('who'));
  const input = h('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'off',
    placeholder: 'ethos_…', required: true, 'aria-label': 'token'});
  const form = h('form', {class: 'login card', on: {submit: async (ev) => {
    ev.preventDefault();
    token.set(input.value.trim());
    try {
      me = await api('/v1/whoami');
      const first = PAGES.find((p) => p.roles.includes(me.role));
      go(first ? first.path : 'policy');
    } catch (err) {
      token.clear();
      loginPage(main, err.message);
    }
  }}},
  h('h1', {}, 'Sign in'),
  h('p', {}, 'Paste a token made with ', h('code', {}, 'ethos token new'),
    '. It is kept in this tab only (sessionStorage) and sent as a bearer header.'),
  h('label', {for: 'token'}, 'Token'), input,
  h('button', {type: 'submit'}, 'Sign in'),
  message ? errorBox(message) : null);
  main.append(form);
  input.focus();
}

async function route() {
  // Each route renders into a fresh view: a slower, older render that
  // finishes late writes into its own detached view, never into this one.
  const main = h('div', {class: 'view'});
  document.getElementById('main').replaceChildren(main);
  const {parts, query} = parseHash();
  if (!token.get() || parts[0] === 'login') {
    me = null;
    loginPage(main);
    return;
  }
  if (!me) {
    try {
      me = await api('/v1/whoami');
    } catch (err) {
      loginPage(main, err.message);
      return;
    }
  }
  const allowed = PAGES.filter((p) => p.roles.includes(me.role));
  let page = PAGES.find((p) => p.path === parts[0]);
  // A decision's own page is part of Decisions.
  if (parts[0] === 'decisions' && parts[1]) page = {...PAGES[0], module: decision};
  if (!page) {
    go(allowed[0].path);
    return;
  }
  renderNav(page.path);
  if (!page.roles.includes(me.role)) {
    main.append(errorBox(`a ${me.role} token may not use the ${page.title} page`));
    return;
  }
  document.title = `${page.title} · ethos`;
  try {
    await page.module.render(main, {parts: parts.slice(1), query, me});
  } catch (err) {
    main.append(errorBox(err));
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('ethos:logout', () => { me = null; go('login'); });
route();
