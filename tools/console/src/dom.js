// Building the page without ever parsing text as HTML: every value, above all
// policy and request text, becomes a text node (STYLE.md, "Front end").

// h('a', {href: '#/x', class: 'y', on: {click: f}}, 'text', child, [more])
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'on') {
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value' || key === 'checked' || key === 'disabled') {
      el[key] = value;
    } else if (key.startsWith('on') || key === 'style') {
      throw new Error(`h(): attribute ${key} is not allowed`);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// A table: columns are [heading, (row) => cell content].
export function table(columns, rows, attrs = {}) {
  return h('table', attrs,
    h('thead', {}, h('tr', {}, columns.map(([head]) => h('th', {}, head)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(row)))))));
}

export function outcomeBadge(outcome) {
  return h('span', {class: `badge ${outcome}`}, outcome);
}

export function errorBox(err) {
  const e = err && err.error ? err.error : err;
  return h('div', {class: 'error', role: 'alert'},
    e && e.message ? e.message : String(err), e && e.path ? ` (at ${e.path})` : '');
}

export function section(title, ...children) {
  return h('section', {class: 'card'}, h('h2', {}, title), ...children);
}
