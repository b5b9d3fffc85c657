// Integrity: the chain's head, its newest signed checkpoint per chain (and
// whether the log still holds what it signed), and a verify with progress;
// the first break is named.
import {api, runJob} from './api.js';
import {h, append, section, errorBox} from './dom.js';

// One chain's newest checkpoint, and whether the log still matches it.
function checkpointFacts(chain) {
  const c = chain.checkpoint;
  const name = chain.chain === '' ? 'the log' : `chain ${chain.chain}`;
  if (!c) {
    return h('p', {class: 'muted'}, `No signed checkpoint of ${name} yet (row ${chain.seq} is its head).`);
  }
  const verdict = c.matches
    ? h('p', {class: 'ok verdict checkpoint-verdict'}, `Matches: ${name} still holds row ${c.seq} with the hash signed at ${c.time}.`)
    : h('p', {class: 'bad verdict checkpoint-verdict'}, `Does not match: ${c.problem}`);
  return h('div', {class: 'checkpoint'}, verdict,
    h('dl', {class: 'facts'},
      h('dt', {}, 'Signed row'), h('dd', {}, String(c.seq)),
      h('dt', {}, 'Head'), h('dd', {}, h('code', {}, c.head)),
      h('dt', {}, 'Signed at'), h('dd', {}, c.time),
      h('dt', {}, 'Signing key'), h('dd', {}, h('code', {}, c.key_id), ` (signature ${c.signature_check})`),
      h('dt', {}, 'Rows since'), h('dd', {}, String(c.rows_since))));
}

function checkpointSection(logHead) {
  const parts = [];
  if (logHead.damage) {
    parts.push(h('div', {class: 'bad verdict', role: 'alert', id: 'log-damage'},
      h('p', {}, 'The log is damaged: decisions are refused (503) until it is restored.'),
      h('p', {}, logHead.damage)));
  }
  for (const chain of logHead.chains) parts.push(checkpointFacts(chain));
  if (!logHead.checkpoint) {
    parts.push(h('p', {class: 'muted'},
      'Without signed checkpoints, verify proves the chain is intact from its first row to its head, ' +
      'not that its tail was not cut (docs/decision-log.md). Start ethos serve with --checkpoint-key.'));
  }
  return section('Checkpoints', h('div', {id: 'checkpoints'}, ...parts));
}

export async function render(main) {
  const [head, logHead] = await Promise.all([
    api('/v1/decisions?order=newest&limit=1'), api('/v1/log/head')]);
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
          h('p', {}, v.first_break.seq > 0 ? `Broken: ${v.first_break.kind} at row ${v.first_break.seq}` : `Broken: ${v.first_break.kind}`),
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
    checkpointSection(logHead),
    section('Verify', h('p', {}, button, ' ', progress), result));
}
