// A real `ethos serve` on a loopback port over a real decision log seeded
// with a few thousand decisions, and Debian's Chromium driven by
// playwright-core: what the console tests run against.
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const ETHOS = process.env.ETHOS_BIN || path.join(ROOT, 'build/tools/ethos');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
// Screenshots are kept as test artifacts here.
export const ARTIFACTS = process.env.ETHOS_BROWSER_ARTIFACTS || path.join(ROOT, 'build/browser-artifacts');
export const SEEDED = Number(process.env.ETHOS_BROWSER_DECISIONS || 3000);

// A rule whose `because` holds markup: the console must show it as text.
export const XSS_RULE = 'console_check.markup_in_because_is_text';
const XSS_MODULE = `module console_check "Console rendering check"
  concern standards

rule markup_in_because_is_text:
  advise
  when actor.kind == app and not (actor.kind == app)
  because "<script>window.__ethosInjected = true</script><img src=x onerror=\\"window.__ethosInjected = true\\"> is text"
  cite "APA Ethics Code 4.01"
`;

function ethos(args, opts = {}) {
  return execFileSync(ETHOS, args, {encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts});
}

// Requests made from the shipped examples: new ids, times spread over 30 days.
function seedRequests(count) {
  const dir = path.join(ROOT, 'policies/examples');
  const examples = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .flatMap((f) => [].concat(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))));
  const base = Date.parse('2026-11-26T10:00:00Z');
  const lines = [];
  for (let i = 0; i < count; ++i) {
    const r = structuredClone(examples[i % examples.length]);
    r.request_id = `r-seed-${String(i).padStart(6, '0')}`;
    r.time = new Date(base - Math.floor((i * 30 * 86400 * 1000) / count)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    lines.push(JSON.stringify(r));
  }
  return lines.join('\n') + '\n';
}

async function waitFor(what, check, timeoutMs = 20000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ethos-console-'));
  const policies = path.join(dir, 'policies');
  fs.cpSync(path.join(ROOT, 'policies'), policies, {recursive: true});
  fs.writeFileSync(path.join(policies, 'console_check.ethos'), XSS_MODULE);
  const key = path.join(dir, 'log.key');
  fs.writeFileSync(key, '7'.repeat(64), {mode: 0o600});
  const log = path.join(dir, 'decisions.db');
  const tokens = path.join(dir, 'tokens.json');
  const token = (role) => ethos(['token', 'new', '--role', role, '--tokens', tokens]).trim();
  const auditor = token('auditor');
  const decider = token('decider');
  const admin = token('admin');
  const requests = path.join(dir, 'requests.jsonl');
  fs.writeFileSync(requests, seedRequests(SEEDED));
  // The log's head is signed (docs/decision-log.md, "Checkpoints").
  const checkpointKey = path.join(dir, 'checkpoint.key');
  ethos(['key', 'new', '--out', checkpointKey]);
  ethos(['eval', '--policies', policies, '--record', log, '--log-key-file', key,
    '--checkpoint-key', checkpointKey, requests],
    {stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30});
  const portFile = path.join(dir, 'port');
  const server = spawn(ETHOS, ['serve', '--policies', policies, '--log', log, '--log-key-file', key,
    '--checkpoint-key', checkpointKey, '--tokens', tokens, '--listen', '127.0.0.1:0', '--port-file', portFile], {stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  server.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => server.on('exit', resolve));
  const port = await waitFor('the port file', () => {
    if (server.exitCode !== null) throw new Error(`ethos serve exited: ${stderr}`);
    const p = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8').trim() : '';
    return p || null;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('/readyz', async () => (await fetch(`${url}/readyz`)).ok);
  return {
    url, dir, policies, tokens: {auditor, decider, admin},
    async api(pathname, tokenValue, init = {}) {
      const res = await fetch(`${url}${pathname}`, {...init,
        headers: {Authorization: `Bearer ${tokenValue}`, 'Content-Type': 'application/json', ...(init.headers || {})}});
      return {status: res.status, headers: res.headers, body: await res.text()};
    },
    async stop() {
      server.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, {recursive: true, force: true});
    },
  };
}

export async function startBrowser() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ethos-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: {width: 1280, height: 900},
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, {recursive: true, force: true});
    },
  };
}

// A new page that fails the test on any console error or CSP violation.
export async function newPage(browser) {
  const page = await browser.context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.problems = problems;
  return page;
}

export async function signIn(page, server, tokenValue) {
  await page.goto(`${server.url}/#/login`);
  await page.fill('#token', tokenValue);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('#nav a');
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, {recursive: true});
  await page.screenshot({path: path.join(ARTIFACTS, `${name}.png`), fullPage: false});
}
