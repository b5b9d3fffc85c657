// The VS Code side of ethos: starts `ethos lsp` for .ethos files. Everything
// else (highlighting, snippets, brackets) is data in package.json.
'use strict';
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration('ethos');
  const command = config.get('server.path', 'ethos');
  const args = ['lsp', '--stdio', ...config.get('server.args', [])];
  const serverOptions = { run: { command, args }, debug: { command, args } };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'ethos' }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.ethos') },
  };
  client = new LanguageClient('ethos', 'ethos language server', serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('ethos.server'))
        vscode.window.showInformationMessage('ethos: reload the window to restart the language server with the new settings.');
    }),
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
