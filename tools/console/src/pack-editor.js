// The policy files of a pack, one shown at a time in a text area, edited in
// place: the playground and impact's candidate start from the active pack.
import {h} from './dom.js';

export function packEditor(files, {id = 'pack'} = {}) {
  const texts = new Map(files.map((f) => [f.name, f.text]));
  const select = h('select', {id: `${id}-file`, 'aria-label': 'policy file'},
    files.map((f) => h('option', {value: f.name}, f.name)));
  const gutter = h('pre', {class: 'gutter', 'aria-hidden': 'true'});
  const area = h('textarea', {id: `${id}-text`, class: 'code', spellcheck: 'false', rows: 24,
    'aria-label': 'policy text'});
  let marks = [];
  function paintGutter() {
    const lines = area.value.split('\n').length;
    const marked = new Map(marks.filter((m) => m.file === select.value).map((m) => [m.line, m]));
    gutter.replaceChildren(...Array.from({length: lines}, (_, i) => {
      const m = marked.get(i + 1);
      return h('span', {class: m ? `line mark-${m.severity}` : 'line', title: m ? m.message : null,
        dataset: {line: String(i + 1)}}, String(i + 1));
    }));
    gutter.scrollTop = area.scrollTop;
  }
  function show(name) {
    select.value = name;
    area.value = texts.get(name) ?? '';
    paintGutter();
  }
  select.addEventListener('change', () => show(select.value));
  area.addEventListener('input', () => { texts.set(select.value, area.value); paintGutter(); });
  area.addEventListener('scroll', () => { gutter.scrollTop = area.scrollTop; });
  const el = h('div', {class: 'pack-editor'}, h('div', {class: 'pack-file'},
    h('label', {for: `${id}-file`}, 'File '), select),
  h('div', {class: 'editor'}, gutter, area));
  show(files[0] ? files[0].name : '');
  return {
    el,
    files: () => Object.fromEntries(texts),
    show,
    // Diagnostics [{file, line, col, severity, message}] marked in the gutter.
    mark(list) { marks = list; paintGutter(); },
    // Puts the caret at line:col of a file.
    reveal(file, line, col) {
      show(file);
      const lines = area.value.split('\n');
      let offset = 0;
      for (let i = 0; i < line - 1 && i < lines.length; ++i) offset += lines[i].length + 1;
      offset += Math.max(0, col - 1);
      area.focus();
      area.setSelectionRange(offset, offset + 1);
    },
  };
}
