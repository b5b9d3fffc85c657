// One recorded decision: everything it carries, its place in the chain, the
// bundle that made it, the request as stored, and replay.
import {api} from './api.js';
import {h, append, section, errorBox} from './dom.js';
import {decisionView} from './render-decision.js';

export async function render(main, {parts}) {
  const id = parts[0];
  const res = await api(`/v1/decisions/${encodeURIComponent(id)}`);
  const d = res.decision;
  const bundleText = h('pre', {class: 'bundle-text', hidden: true});
  const showBundle = h('button', {type: 'button', class: 'secondary', on: {click: async () => {
    showBundle.disabled = true;
    try {
      const b = await api(`/v1/bundles/${encodeURIComponent(d.bundle)}`);
      bundleText.textContent = b.text;
      bundleText.hidden = false;
    } catch (err) {
      bundleText.replaceWith(errorBox(err));
    }
  }}}, 'Show this bundle\'s text');
  const replayResult = h('div', {id: 'replay-result', 'aria-live': 'polite'});
  const replay = h('button', {type: 'button', id: 'replay', on: {click: async () => {
    replay.disabled = true;
    replayResult.textContent = 'Replaying…';
    try {
      const r = await api('/v1/replay', {method: 'POST', body: {decision_id: d.decision_id}});
      const ok = r.replayed === 1 && r.reproduced === 1 && r.differences.length === 0;
      replayResult.replaceChildren(h('p', {class: ok ? 'ok' : 'bad'}, ok
        ? 'Reproduced: replaying the stored request under its own bundle gives this decision exactly.'
        : `Not reproduced: ${r.differences.map((x) => `${x.fields}: ${x.recorded} → ${x.replayed} ${x.note}`).join('; ')}`));
    } catch (err) {
      replayResult.replaceChildren(errorBox(err));
    }
    replay.disabled = false;
  }}}, 'Replay this decision');

  append(main,
    h('p', {}, h('a', {href: '#/decisions'}, '← Decisions')),
    h('h1', {}, 'Decision ', h('code', {}, d.decision_id)),
    h('dl', {class: 'facts card'},
      h('dt', {}, 'Request'), h('dd', {}, d.request_id),
      h('dt', {}, 'Time'), h('dd', {}, d.time),
      h('dt', {}, 'Recorded'), h('dd', {}, res.recorded_at),
      h('dt', {}, 'Chain position'), h('dd', {}, String(res.seq)),
      h('dt', {}, 'Hash'), h('dd', {}, h('code', {}, res.hash)),
      h('dt', {}, 'Previous hash'), h('dd', {}, h('code', {}, res.prev_hash)),
      h('dt', {}, 'Bundle'), h('dd', {}, h('code', {}, d.bundle), ' ', showBundle)),
    bundleText,
    section('Replay', h('p', {}, replay), replayResult),
    section('Decision', decisionView(d)),
    section('Request as stored (pseudonymised)',
      h('pre', {class: 'request'}, JSON.stringify(res.request, null, 2))));
}
