// A request form generated from the schema's attributes (GET
// /v1/playground/start): one input per fact, kept in step with the raw JSON.
import {h} from './dom.js';

function getPath(obj, path) {
  return path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), obj);
}

function setPath(obj, path, value) {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== 'object') o[k] = {};
    o = o[k];
  }
  if (value === undefined) delete o[keys.at(-1)]; else o[keys.at(-1)] = value;
}

function input(a, onChange) {
  const id = `req-${a.path}`;
  const t = a.type;
  let el;
  if (a.values && t.startsWith('set')) {
    // A set of enum values (purpose.categories): any number of its members.
    el = h('select', {id, multiple: true, size: Math.min(a.values.length, 6)},
      a.values.map((v) => h('option', {value: v}, v)));
  } else if (t === 'bool') {
    el = h('select', {id}, ['', 'true', 'false'].map((v) => h('option', {value: v}, v || '(absent)')));
  } else if (a.values) {
    el = h('select', {id}, ['', ...a.values].map((v) => h('option', {value: v}, v || '(absent)')));
  } else {
    el = h('input', {id, type: t === 'int' ? 'number' : 'text',
      placeholder: t.startsWith('set') || t.startsWith('list') ? 'comma, separated' : t});
  }
  el.addEventListener('change', onChange);
  return el;
}

function readValue(a, el) {
  if (el.multiple) {
    const chosen = [...el.selectedOptions].map((o) => o.value);
    return chosen.length ? chosen : undefined;
  }
  const raw = el.value;
  if (raw === '') return undefined;
  if (a.type === 'bool') return raw === 'true';
  if (a.type === 'int') return Number.parseInt(raw, 10);
  if (a.type.startsWith('set') || a.type.startsWith('list')) return raw.split(',').map((s) => s.trim()).filter(Boolean);
  return raw;
}

function showValue(a, v) {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

// rawArea: the JSON text area the form writes to.
export function requestForm(schema, rawArea) {
  const fields = [];
  const rows = schema.filter((a) => a.kind !== 'record').map((a) => {
    const el = input(a, () => {
      let obj;
      try { obj = JSON.parse(rawArea.value || '{}'); } catch { obj = {}; }
      setPath(obj, a.path, readValue(a, el));
      rawArea.value = JSON.stringify(obj, null, 2);
    });
    fields.push([a, el]);
    return h('div', {class: 'field'}, h('label', {for: el.id}, a.path, a.optional ? '?' : ''), el);
  });
  return {
    el: h('div', {class: 'request-form'}, rows),
    // Shows the values of a request object in the inputs.
    load(obj) {
      for (const [a, el] of fields) {
        const v = getPath(obj, a.path);
        if (el.multiple) for (const o of el.options) o.selected = Array.isArray(v) && v.includes(o.value);
        else el.value = showValue(a, v);
      }
    },
  };
}
