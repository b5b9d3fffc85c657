// Integrity: the chain's head and a verify with progress; the first break is named.
import {api, runJob} from './api.js';
import {h, append, section, errorBox} from './dom.js';

export async function render(main) {
  const head = await api('/v1/decisions?order=newest&limit=1');
  const last = head.decisions[0];
  const progress = h('progress', {id: 'verify-progress', max: 1, value: 0, hidden: true});
  const result = h('div', {id: 'verify-result', 'aria-live': 'polite'});
  const button = h('button', {type: 'button', id: 'verify', on: {click: async () => {
    button.disabled = true;
    progress.hidden = false;
    result.replaceChildren(h('p', {class: 'muted'}, 'Walking the chain…'));
    try {
      const v = await runJob('/v1/jobs/verify', {}, (done, total) => {
        progress.max = Math.max(total, 1);
        progress.value = done;
      });
      progress.value = progress.max;
      result.replaceChildren(v.ok
        ? h('p', {class: 'ok verdict'}, `Verified: ${v.decisions} decisions and ${v.bundles} bundles; nothing altered, removed or reordered.`)
        : h('div', {class: 'bad verdict'},
          h('p', {}, `Broken: ${v.first_break.kind} at row ${v.first_break.seq}`),
          h('p', {}, v.first_break.message),
          v.first_break.decision_id ? h('a', {href: `#/decisions/${encodeURIComponent(v.first_break.decision_id)}`}, v.first_break.decision_id) : null),
        h('p', {class: 'muted'}, 'Head: ', h('code', {}, v.head)));
    } catch (err) {
      result.replaceChildren(errorBox(err));
    }
    button.disabled = false;
  }}}, 'Verify the chain');
  append(main, h('h1', {}, 'Integrity'),
    section('Chain head', last
      ? h('dl', {class: 'facts'},
        h('dt', {}, 'Last decision'), h('dd', {}, h('a', {href: `#/decisions/${encodeURIComponent(last.decision_id)}`}, last.decision_id)),
        h('dt', {}, 'Position'), h('dd', {}, String(last.seq)),
        h('dt', {}, 'Recorded'), h('dd', {}, last.recorded_at))
      : h('p', {class: 'muted'}, 'The log is empty.')),
    section('Checkpoints', h('p', {class: 'muted'},
      'This log has no signed checkpoints yet: verify proves the chain is intact from its first row to its head, ' +
      'not that its tail was not cut (docs/decision-log.md).')),
    section('Verify', h('p', {}, button, ' ', progress), result));
}
