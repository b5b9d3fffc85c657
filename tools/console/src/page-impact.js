// Impact: re-decide the recorded decisions under a candidate (a recorded
// bundle, or the active pack edited here) and show what would change.
import {api, runJob} from './api.js';
import {h, append, table, section, errorBox, outcomeBadge} from './dom.js';
import {packEditor} from './pack-editor.js';
import {timeBars, rankBars} from './charts.js';
import {decisionView} from './render-decision.js';

export async function render(main) {
  const [start, stats] = await Promise.all([api('/v1/playground/start'), api('/v1/statistics')]);
  const editor = packEditor(start.files, {id: 'candidate'});
  const source = h('select', {id: 'candidate-source'},
    h('option', {value: 'edit'}, 'the active pack, edited below'),
    stats.bundles.map((b) => h('option', {value: b.bundle}, `recorded bundle ${b.bundle.slice(0, 19)}… (from ${b.first_decision})`)));
  const from = h('input', {type: 'date', id: 'impact-from'});
  const to = h('input', {type: 'date', id: 'impact-to'});
  const progress = h('progress', {id: 'impact-progress', max: 1, value: 0, hidden: true});
  const results = h('div', {id: 'impact-results', 'aria-live': 'polite'});
  source.addEventListener('change', () => { editor.el.hidden = source.value !== 'edit'; });
  let candidateFiles = null;
  const run = h('button', {type: 'button', id: 'impact-run', on: {click: async () => {
    run.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    results.replaceChildren(h('p', {class: 'muted'}, 'Replaying the log under the candidate…'));
    const body = {changes_limit: 500};
    if (source.value === 'edit') {
      candidateFiles = editor.files();
      body.against = {files: candidateFiles};
    } else {
      candidateFiles = null;
      body.bundle = source.value;
    }
    if (from.value) body.from = `${from.value}T00:00:00Z`;
    if (to.value) body.to = `${to.value}T23:59:59Z`;
    try {
      const rep = await runJob('/v1/jobs/impact', body, (done, total) => {
        progress.max = Math.max(total, 1);
        progress.value = done;
      });
      progress.value = progress.max;
      show(rep);
    } catch (err) {
      results.replaceChildren(errorBox(err), err.body && err.body.rendered ? h('pre', {class: 'diagnostics'}, err.body.rendered) : null);
    }
    run.disabled = false;
  }}}, 'Run the impact report');

  function show(rep) {
    const transitions = h('div', {class: 'chart', id: 'impact-transitions'});
    const overTime = h('div', {class: 'chart', id: 'impact-over-time'});
    const detail = h('div', {id: 'impact-detail'});
    results.replaceChildren(
      h('p', {class: 'summary'}, h('strong', {id: 'impact-changed', dataset: {changed: String(rep.changed)}}, String(rep.changed)),
        ` of ${rep.replayed} decisions would change (${rep.outcome_changed} of them in outcome); `,
        `${rep.not_bound} requests do not fit the candidate's schema.`),
      section('Changes by outcome (from → to)', transitions),
      section('Changes over time', overTime),
      section('By rule', rep.rules.length ? table([['Rule', (r) => h('a', {href: `#/policy/rule/${encodeURIComponent(r.rule)}`}, r.rule)], ['Decisions', (r) => String(r.decisions)]],
        [...rep.rules].sort((a, b) => b.decisions - a.decisions)) : h('p', {class: 'muted'}, 'no rule changed a decision')),
      section('Changed decisions', rep.changes.length ? table([
        ['Time', (c) => c.time],
        ['From', (c) => outcomeBadge(c.from)],
        ['To', (c) => outcomeBadge(c.to)],
        ['Rules', (c) => c.rules.join(', ')],
        ['Decision', (c) => h('button', {type: 'button', class: 'link', on: {click: () => drill(c, detail)}}, c.decision_id)],
      ], rep.changes, {class: 'changes'}) : h('p', {class: 'muted'}, 'none'),
      rep.changes_truncated ? h('p', {class: 'muted'}, `the first ${rep.changes.length} are listed`) : null,
      detail));
    if (rep.transitions.length) {
      rankBars(transitions, rep.transitions.map((t) => `${t.from} → ${t.to}`), rep.transitions.map((t) => t.decisions),
        {color: '#1565c0'});
    } else {
      transitions.append(h('p', {class: 'muted'}, 'no decision changes'));
    }
    if (rep.changes_by_day.length) {
      timeBars(overTime, rep.changes_by_day.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000),
        [{name: 'changes', values: rep.changes_by_day.map((d) => d.decisions)}]);
    }
  }

  async function drill(change, detail) {
    detail.replaceChildren(h('p', {class: 'muted'}, 'Loading…'));
    try {
      const old = await api(`/v1/decisions/${encodeURIComponent(change.decision_id)}`);
      let now = null;
      if (candidateFiles) {
        const r = await api('/v1/playground', {method: 'POST', body: {files: candidateFiles, request: old.request}});
        now = r.decision ? decisionView(r.decision) : errorBox(r.bind_error || 'the candidate does not decide it');
      } else {
        now = h('p', {}, `${change.from} → ${change.to}; rules: ${change.rules.join(', ')}`);
      }
      detail.replaceChildren(section(`Decision ${change.decision_id}`,
        h('div', {class: 'side-by-side'},
          h('div', {}, h('h3', {}, 'Recorded'), decisionView(old.decision)),
          h('div', {}, h('h3', {}, 'Under the candidate'), now))));
      detail.scrollIntoView();
    } catch (err) {
      detail.replaceChildren(errorBox(err));
    }
  }

  append(main, h('h1', {}, 'Impact'),
    section('Candidate',
      h('div', {class: 'field'}, h('label', {for: 'candidate-source'}, 'Candidate policy'), source),
      editor.el,
      h('div', {class: 'filters'},
        h('div', {class: 'field'}, h('label', {for: 'impact-from'}, 'From'), from),
        h('div', {class: 'field'}, h('label', {for: 'impact-to'}, 'To'), to)),
      h('p', {}, run, ' ', progress)),
    results);
}
