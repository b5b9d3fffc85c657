// Policy: modules and rules with their reasons, citations, effects and
// overrides, searchable; a module's rule graph drawn by Graphviz on the server.
import {api} from './api.js';
import {h, append, section, errorBox} from './dom.js';
import {citeText} from './render-decision.js';

function ruleCard(r, overriddenBy) {
  return h('article', {class: 'rule card', id: `rule-${r.id}`, dataset: {rule: r.id}},
    h('h3', {}, h('a', {href: `#/policy/rule/${encodeURIComponent(r.id)}`}, r.id), ' ',
      h('span', {class: `effect ${r.effect}`}, r.effect)),
    h('p', {class: 'because'}, r.because),
    h('ul', {class: 'cites'}, (r.cite || []).map((c) => h('li', {class: 'cite'}, citeText(c)))),
    r.obligation ? h('p', {}, 'Requires ', h('strong', {}, r.obligation.id), ': ', r.obligation.text) : null,
    r.overrides.length ? h('p', {}, 'Overrides ', r.overrides.map((o, i) => [i ? ', ' : '',
      h('a', {href: `#/policy/rule/${encodeURIComponent(o)}`}, o)])) : null,
    (overriddenBy.get(r.id) || []).length ? h('p', {}, 'Overridden by ', overriddenBy.get(r.id).map((o, i) => [i ? ', ' : '',
      h('a', {href: `#/policy/rule/${encodeURIComponent(o)}`}, o)])) : null,
    h('p', {class: 'muted'}, [r.concern ? `concern ${r.concern}` : null, r.severity ? `severity ${r.severity}` : null,
      r.confidence ? `source ${r.confidence}` : null].filter(Boolean).join(' · ')));
}

// The server's SVG (Graphviz output, labels escaped by the server), parsed as
// an SVG document, never as HTML; anything scriptable is dropped first.
async function graphInto(el, module) {
  el.replaceChildren(h('p', {class: 'muted'}, 'Drawing…'));
  try {
    const svgText = await api(`/v1/graph?module=${encodeURIComponent(module)}`, {raw: true});
    const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
    const svg = doc.documentElement;
    if (svg.nodeName !== 'svg') throw new Error('the graph is not SVG');
    for (const bad of svg.querySelectorAll('script, foreignObject')) bad.remove();
    for (const node of svg.querySelectorAll('*')) {
      for (const attr of [...node.attributes]) if (attr.name.startsWith('on')) node.removeAttribute(attr.name);
    }
    svg.setAttribute('class', 'graph-svg');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', `rule graph of module ${module}`);
    el.replaceChildren(document.importNode(svg, true));
  } catch (err) {
    el.replaceChildren(errorBox(err));
  }
}

export async function render(main, {parts, query}) {
  const p = await api('/v1/policy');
  const overriddenBy = new Map();
  for (const r of p.rules) for (const o of r.overrides) overriddenBy.set(o, [...(overriddenBy.get(o) || []), r.id]);
  const byModule = new Map(p.modules.map((m) => [m.name, []]));
  for (const r of p.rules) byModule.get(r.module)?.push(r);

  if (parts[0] === 'rule' && parts[1]) {
    const r = p.rules.find((x) => x.id === parts[1]);
    append(main, h('p', {}, h('a', {href: '#/policy'}, '← Policy'), ' · ',
      r ? h('a', {href: `#/policy/module/${encodeURIComponent(r.module)}`}, `module ${r.module}`) : null),
    r ? ruleCard(r, overriddenBy) : errorBox(`no rule \`${parts[1]}\` in the active policy`));
    return;
  }
  if (parts[0] === 'module' && parts[1]) {
    const m = p.modules.find((x) => x.name === parts[1]);
    if (!m) { main.append(errorBox(`no module \`${parts[1]}\``)); return; }
    const graph = h('div', {class: 'graph', id: 'graph'});
    append(main, h('p', {}, h('a', {href: '#/policy'}, '← Policy')),
      h('h1', {}, `Module ${m.name}`), h('p', {}, m.title, ` · default ${m.default}`),
      section('Rule graph', h('p', {class: 'muted'}, 'Boxes are modules; click a rule to open it.'), graph),
      byModule.get(m.name).map((r) => ruleCard(r, overriddenBy)));
    await graphInto(graph, m.name);
    return;
  }

  const search = h('input', {type: 'search', id: 'policy-search', placeholder: 'rule, reason or citation',
    value: query.get('q') || '', 'aria-label': 'search the policy'});
  const list = h('div', {id: 'policy-list'});
  function paint() {
    const q = search.value.trim().toLowerCase();
    const match = (r) => !q || [r.id, r.because, r.effect, ...(r.cite || []).map(citeText)].join('\n').toLowerCase().includes(q);
    list.replaceChildren(...p.modules.map((m) => {
      const rules = byModule.get(m.name).filter(match);
      if (!rules.length) return null;
      return h('section', {class: 'module'},
        h('h2', {}, h('a', {href: `#/policy/module/${encodeURIComponent(m.name)}`}, m.name), ' ',
          h('span', {class: 'muted'}, `${m.title} · ${rules.length} rule${rules.length === 1 ? '' : 's'}`)),
        rules.map((r) => ruleCard(r, overriddenBy)));
    }).filter(Boolean));
  }
  search.addEventListener('input', paint);
  append(main, h('h1', {}, 'Policy'),
    h('p', {}, 'Bundle ', h('code', {}, p.bundle), ` · ${p.rules.length} rules in ${p.modules.length} modules`),
    search, list);
  paint();
}
