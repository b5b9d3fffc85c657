// Statistics: decisions per outcome over time, the rules that decide most,
// the facts most often missing.
import {api} from './api.js';
import {h, append, section} from './dom.js';
import {timeBars, rankBars} from './charts.js';

export async function render(main, {query}) {
  const bucket = query.get('bucket') || 'day';
  const s = await api(`/v1/statistics?bucket=${encodeURIComponent(bucket)}&top=10`);
  const picker = h('select', {id: 'stats-bucket', 'aria-label': 'bucket'},
    ['hour', 'day', 'week'].map((b) => h('option', {value: b, selected: b === bucket}, `per ${b}`)));
  picker.addEventListener('change', () => { location.hash = `#/statistics?bucket=${picker.value}`; });
  const overTime = h('div', {class: 'chart', id: 'stats-outcomes'});
  const rules = h('div', {class: 'chart', id: 'stats-rules'});
  const missing = h('div', {class: 'chart', id: 'stats-missing'});
  const t = s.totals;
  append(main, h('h1', {}, 'Statistics'),
    h('p', {}, `${t.permit + t.deny + t.escalate} decisions: ${t.permit} permit, ${t.deny} deny, ${t.escalate} escalate · `, picker),
    section('Decisions per outcome over time', overTime),
    section('Rules that decided most often', rules),
    section('Facts most often missing', missing));
  const xs = s.buckets.map((b) => b.t);
  if (xs.length) {
    timeBars(overTime, xs, ['permit', 'deny', 'escalate'].map((name) => ({name, values: s.buckets.map((b) => b[name])})));
  } else {
    overTime.append(h('p', {class: 'muted'}, 'no decisions'));
  }
  if (s.top_rules.length) rankBars(rules, s.top_rules.map((r) => r.rule), s.top_rules.map((r) => r.decisions), {color: '#c62828'});
  else rules.append(h('p', {class: 'muted'}, 'none'));
  if (s.top_missing.length) rankBars(missing, s.top_missing.map((r) => r.fact), s.top_missing.map((r) => r.decisions), {color: '#ef6c00'});
  else missing.append(h('p', {class: 'muted'}, 'no missing facts'));
}
