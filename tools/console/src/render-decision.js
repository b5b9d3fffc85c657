// A decision as the API renders it (docs/decision-format.md), as text only;
// shared by the decision page, impact's side-by-side view and the playground.
import {h, table, outcomeBadge} from './dom.js';

export function citeText(c) {
  if (typeof c === 'string') return c;
  if (c && typeof c === 'object') {
    return [c.source, c.section, c.text, c.jurisdiction ? `(${c.jurisdiction})` : null]
      .filter(Boolean).join(' ') || JSON.stringify(c);
  }
  return String(c);
}

function reasons(list, kind) {
  if (!list.length) return h('p', {class: 'muted'}, `no ${kind}`);
  return h('ol', {class: kind}, list.map((r) => h('li', {class: 'reason'},
    h('div', {class: 'reason-head'},
      h('a', {href: `#/policy/rule/${encodeURIComponent(r.rule)}`, class: 'rule-id'}, r.rule),
      ' ', h('span', {class: `effect ${r.effect}`}, r.effect),
      r.status && r.status !== 'fired' ? h('span', {class: 'status'}, ` ${r.status}`) : null),
    h('p', {class: 'because'}, r.because),
    (r.cite || []).length
      ? h('ul', {class: 'cites'}, r.cite.map((c) => h('li', {class: 'cite'}, citeText(c))))
      : h('p', {class: 'muted'}, 'no cited source is in force for this request\'s place and time'))));
}

const kListed = ['fired', 'unknown', 'overridden'];

// The trace as [rule, status] pairs, the rules that fired, were unknown or were
// overridden first, and the number of rules the pack has. A compact trace
// (decision-format.md, "The trace") lists only those and counts the rest.
function traceRows(trace) {
  if (!trace) return {rows: [], total: 0, unlisted: ''};
  if (Array.isArray(trace.fired)) {
    const rows = kListed.flatMap((s) => (trace[s] || []).map((r) => [r, s]));
    const notFired = trace.not_fired || 0, notApplicable = trace.not_applicable || 0;
    return {rows, total: rows.length + notFired + notApplicable,
      unlisted: `not listed: ${notFired} not fired, ${notApplicable} not applicable`};
  }
  const all = Object.entries(trace);
  const interesting = all.filter(([, s]) => kListed.includes(s));
  return {rows: interesting.concat(all.filter((t) => !interesting.includes(t))), total: all.length,
    unlisted: ''};
}

export function decisionView(d) {
  const trace = traceRows(d.trace);
  const listed = trace.rows.filter(([, s]) => kListed.includes(s)).length;
  return h('div', {class: 'decision'},
    h('p', {class: 'outcome-line'}, outcomeBadge(d.outcome),
      d.default ? h('span', {class: 'muted'}, ` by the default of ${d.default}`) : null),
    h('h3', {}, 'Reasons'), reasons(d.reasons || [], 'reasons'),
    h('h3', {}, 'Obligations'),
    (d.obligations || []).length ? h('ul', {class: 'obligations'}, d.obligations.map((o) =>
      h('li', {}, h('strong', {}, o.id), ': ', o.text, h('span', {class: 'muted'}, ` (from ${o.rule})`))))
      : h('p', {class: 'muted'}, 'none'),
    h('h3', {}, 'Advice'), reasons(d.advice || [], 'advice'),
    h('h3', {}, 'Missing facts'),
    (d.missing_facts || []).length ? h('ul', {class: 'missing'}, d.missing_facts.map((m) => h('li', {}, h('code', {}, m))))
      : h('p', {class: 'muted'}, 'none'),
    h('h3', {}, 'Overridden rules'),
    (d.overridden || []).length ? table([['Rule', (o) => o.rule], ['Overridden by', (o) => o.by]], d.overridden)
      : h('p', {class: 'muted'}, 'none'),
    h('details', {class: 'trace'},
      h('summary', {}, `Trace: ${listed} rules fired, unknown or overridden of ${trace.total}`),
      table([['Rule', ([r]) => r], ['Status', ([, s]) => h('span', {class: `status ${s}`}, s)]], trace.rows),
      trace.unlisted ? h('p', {class: 'muted trace-unlisted'}, trace.unlisted) : null));
}
