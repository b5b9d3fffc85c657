// Playground: policy text (the active pack to start from) and a request,
// checked and decided by the server, never recorded.
import {api} from './api.js';
import {h, append, section, errorBox} from './dom.js';
import {packEditor} from './pack-editor.js';
import {requestForm} from './request-form.js';
import {decisionView} from './render-decision.js';

export async function render(main) {
  const start = await api('/v1/playground/start');
  const editor = packEditor(start.files, {id: 'play'});
  const raw = h('textarea', {id: 'play-request', class: 'code', rows: 18, spellcheck: 'false',
    'aria-label': 'request JSON'});
  const form = requestForm(start.schema, raw);
  const examples = h('select', {id: 'play-example', 'aria-label': 'example request'},
    h('option', {value: ''}, 'start from an example…'),
    start.examples.map((e, i) => h('option', {value: String(i)}, e.name)));
  function load(i) {
    const e = start.examples[i];
    if (!e) return;
    raw.value = JSON.stringify(e.request, null, 2);
    form.load(e.request);
  }
  examples.addEventListener('change', () => load(examples.value));
  raw.addEventListener('change', () => { try { form.load(JSON.parse(raw.value)); } catch { /* shown on decide */ } });
  const mode = h('select', {id: 'play-mode', 'aria-label': 'request as'},
    h('option', {value: 'raw'}, 'raw JSON'), h('option', {value: 'form'}, 'form from the schema'));
  mode.addEventListener('change', () => { form.el.hidden = mode.value !== 'form'; raw.hidden = mode.value === 'form'; });
  form.el.hidden = true;

  const out = h('div', {id: 'play-result', 'aria-live': 'polite'});
  const decide = h('button', {type: 'button', id: 'play-run', on: {click: async () => {
    decide.disabled = true;
    out.replaceChildren(h('p', {class: 'muted'}, 'Checking…'));
    try {
      const r = await api('/v1/playground', {method: 'POST',
        body: {files: editor.files(), request: raw.value.trim() ? raw.value : null, remedies: true}});
      editor.mark(r.diagnostics);
      const diags = r.diagnostics.map((d) => h('li', {class: `diagnostic ${d.severity}`},
        h('button', {type: 'button', class: 'link', on: {click: () => editor.reveal(d.file, d.line, d.col)}},
          `${d.file}:${d.line}:${d.col}`), `: ${d.severity}: ${d.message}`,
        d.help ? h('div', {class: 'help'}, `help: ${d.help}`) : null));
      out.replaceChildren(
        section('Diagnostics', diags.length ? h('ul', {id: 'play-diagnostics'}, diags) : h('p', {class: 'ok', id: 'play-diagnostics'}, 'no errors or warnings'),
          r.rendered ? h('details', {}, h('summary', {}, 'as ethos check prints them'), h('pre', {class: 'diagnostics'}, r.rendered)) : null),
        r.bind_error ? section('Request', errorBox({message: r.bind_error.message, path: r.bind_error.path})) : null,
        r.decision ? section('Decision', h('div', {id: 'play-decision'}, decisionView(r.decision))) : null,
        r.decision && r.decision.remedies_text ? section('What would make it a permit',
          h('pre', {class: 'remedies'}, r.decision.remedies_text)) : null);
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
    decide.disabled = false;
  }}}, 'Check and decide');

  append(main, h('h1', {}, 'Playground'),
    h('p', {class: 'muted'}, 'Edit the active pack or add to it, then decide a request. Nothing here is recorded in the log.'),
    h('div', {class: 'playground'},
      section('Policy', editor.el),
      section('Request', h('p', {}, examples, ' ', mode), raw, form.el)),
    h('p', {}, decide), out);
  if (start.examples.length) { examples.value = '0'; load(0); }
}
