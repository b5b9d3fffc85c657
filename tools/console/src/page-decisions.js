// Decisions: filters in the URL, newest first, keyset pages from the server.
import {api} from './api.js';
import {h, append, table, outcomeBadge, errorBox} from './dom.js';

const FILTERS = [
  ['from', 'From', 'date'],
  ['to', 'To', 'date'],
  ['outcome', 'Outcome', 'outcome'],
  ['module', 'Module', 'text'],
  ['rule', 'Rule that fired', 'text'],
  ['request_id', 'Request id', 'text'],
  ['missing', 'Missing fact', 'text'],
];

function field([name, label, kind], value, lists) {
  const id = `f-${name}`;
  let input;
  if (kind === 'outcome') {
    input = h('select', {id, name},
      ['', 'permit', 'deny', 'escalate'].map((o) => h('option', {value: o, selected: o === value}, o || 'any')));
  } else {
    input = h('input', {id, name, type: kind, value: value || '',
      list: lists[name] ? `${id}-list` : null, autocomplete: 'off'});
  }
  return h('div', {class: 'field'}, h('label', {for: id}, label), input,
    lists[name] ? h('datalist', {id: `${id}-list`}, lists[name].map((v) => h('option', {value: v}))) : null);
}

function toApiTime(name, value) {
  if (!value || (name !== 'from' && name !== 'to')) return value;
  return name === 'to' ? `${value}T23:59:59Z` : `${value}T00:00:00Z`;
}

export async function render(main, {query}) {
  const policy = await api('/v1/policy');
  const lists = {
    module: policy.modules.map((m) => m.name),
    rule: policy.rules.map((r) => r.id),
  };
  const form = h('form', {class: 'filters card', on: {submit: (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [name] of FILTERS) {
      const v = form.elements[name].value.trim();
      if (v) q.set(name, v);
    }
    location.hash = `#/decisions?${q}`;
  }}},
  FILTERS.map((f) => field(f, query.get(f[0]), lists)),
  h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Filter'),
    h('a', {href: '#/decisions', class: 'button secondary'}, 'Clear')));

  const status = h('p', {class: 'muted', id: 'decisions-status'});
  const body = h('div', {id: 'decisions-results'});
  const more = h('button', {type: 'button', class: 'secondary', hidden: true}, 'Load more');
  append(main, h('h1', {}, 'Decisions'), form, status, body, more);

  const params = new URLSearchParams({order: 'newest', limit: '50'});
  for (const [name] of FILTERS) {
    const v = query.get(name);
    if (v) params.set(name, toApiTime(name, v));
  }
  let shown = 0;
  let examined = 0;
  async function page(cursor) {
    if (cursor) params.set('cursor', cursor); else params.delete('cursor');
    more.disabled = true;
    let res;
    try {
      res = await api(`/v1/decisions?${params}`);
    } catch (err) {
      body.append(errorBox(err));
      return;
    }
    shown += res.decisions.length;
    examined += res.examined;
    if (res.decisions.length) {
      body.append(table([
        ['Time', (d) => d.time],
        ['Outcome', (d) => outcomeBadge(d.outcome)],
        ['Request', (d) => d.request_id],
        ['Decided by', (d) => d.reasons.length ? d.reasons.join(', ') :
          (d.default ? `default of ${d.default}` : 'default deny')],
        ['Missing facts', (d) => d.missing_facts.join(', ')],
        ['Decision', (d) => h('a', {href: `#/decisions/${encodeURIComponent(d.decision_id)}`,
          class: 'decision-link'}, d.decision_id)],
      ], res.decisions, {class: 'decisions'}));
    }
    status.textContent = `${shown} decision${shown === 1 ? '' : 's'} shown; ` +
      `${examined} searched` + (res.next_cursor ? ', more to search' : ', end of the log');
    more.hidden = !res.next_cursor;
    more.disabled = false;
    more.onclick = () => page(res.next_cursor);
  }
  await page(null);
}
