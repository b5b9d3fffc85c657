// Renders an .ethos file as HTML coloured by the extension's TextMate grammar
// (vscode-textmate + vscode-oniguruma, the libraries VS Code itself uses), so
// that headless Chromium can take a picture of the highlighting for the docs.
//   node tools/render.js <file.ethos> <out.html> [first-line] [last-line]
'use strict';
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

// Colours in the spirit of VS Code's Dark+ theme: the longest matching scope prefix wins.
const theme = [
  ['comment', '#6A9955'],
  ['string.quoted.double.citation', '#D7BA7D'],
  ['constant.other.date', '#B5CEA8'],
  ['string', '#CE9178'],
  ['constant.character.escape', '#D7BA7D'],
  ['constant.numeric', '#B5CEA8'],
  ['constant.language', '#569CD6'],
  ['keyword.other.effect', '#C586C0'],
  ['keyword.other.unit', '#569CD6'],
  ['keyword.control', '#C586C0'],
  ['keyword.operator.logical', '#569CD6'],
  ['keyword.operator.word', '#569CD6'],
  ['keyword.operator', '#D4D4D4'],
  ['storage.type', '#569CD6'],
  ['storage.modifier', '#4EC9B0'],
  ['support.type', '#4EC9B0'],
  ['support.function', '#DCDCAA'],
  ['entity.name.function', '#DCDCAA'],
  ['entity.name.namespace', '#4EC9B0'],
  ['entity.name.type', '#4EC9B0'],
  ['variable.other.constant', '#4FC1FF'],
  ['variable.other.property', '#9CDCFE'],
];

function colour(scopes) {
  let best = null;
  for (const scope of scopes)
    for (const [prefix, c] of theme)
      if (scope.startsWith(prefix) && (!best || prefix.length > best[0].length)) best = [prefix, c];
  return best ? best[1] : '#D4D4D4';
}

function escape(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function main() {
  const [input, output, first = '1', last = '100000'] = process.argv.slice(2);
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () => vsctm.parseRawGrammar(
      fs.readFileSync(path.join(__dirname, '..', 'syntaxes', 'ethos.tmLanguage.json'), 'utf8'),
      'ethos.tmLanguage.json'),
  });
  const grammar = await registry.loadGrammar('source.ethos');
  const lines = fs.readFileSync(input, 'utf8').split('\n');
  let stack = vsctm.INITIAL;
  let html = '';
  lines.forEach((line, i) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    if (i + 1 < Number(first) || i + 1 > Number(last)) return;
    let row = `<span class="n">${String(i + 1).padStart(3)}</span>  `;
    for (const t of r.tokens)
      row += `<span style="color:${colour(t.scopes)}">${escape(line.substring(t.startIndex, t.endIndex))}</span>`;
    html += row + '\n';
  });
  fs.writeFileSync(output, `<!doctype html><meta charset="utf-8"><title>${escape(path.basename(input))}</title>
<style>body{margin:0;background:#1E1E1E}header{font:13px sans-serif;color:#ccc;background:#252526;padding:6px 12px}
pre{margin:0;padding:10px 12px;font:14px/1.45 "DejaVu Sans Mono",monospace;color:#D4D4D4}.n{color:#858585}</style>
<header>${escape(path.basename(input))} — highlighted by editors/vscode/syntaxes/ethos.tmLanguage.json</header><pre>${html}</pre>`);
}

main().catch((e) => { console.error(e); process.exit(1); });
