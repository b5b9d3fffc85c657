// The console in a real Chromium against a real `ethos serve` (harness.mjs).
// Run: npm ci && node --test (tools/test does it).
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, startBrowser, newPage, signIn, screenshot, XSS_RULE, SEEDED, ARTIFACTS} from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an auditor token signs in and sees the audit pages', async () => {
  const page = await newPage(browser);
  await signIn(page, server, server.tokens.auditor);
  const nav = await page.locator('#nav a').allTextContents();
  assert.deepEqual(nav, ['Decisions', 'Integrity', 'Impact', 'Statistics', 'Policy', 'Playground']);
  assert.match(await page.textContent('#who'), /\(auditor\)/);
  // The token lives in this tab's sessionStorage, never in a cookie.
  assert.equal((await browser.context.cookies()).length, 0);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('ethos.token')), server.tokens.auditor);
  await page.waitForSelector('table.decisions tbody tr');
  await screenshot(page, 'decisions');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('filtering to denies lists only denies, and a deny shows its reasons and citations', async () => {
  const page = await newPage(browser);
  await signIn(page, server, server.tokens.auditor);
  await page.goto(`${server.url}/#/decisions`);
  await page.selectOption('#f-outcome', 'deny');
  // Privacy's rules cite HIPAA and the professional codes, in force everywhere.
  await page.fill('#f-module', 'privacy');
  await page.click('form.filters button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('outcome=deny') && location.hash.includes('module=privacy'));
  await page.waitForSelector('table.decisions tbody tr');
  const outcomes = await page.locator('table.decisions tbody .badge').allTextContents();
  assert.ok(outcomes.length > 0);
  assert.ok(outcomes.every((o) => o === 'deny'), `not only denies: ${outcomes}`);
  await page.locator('table.decisions a.decision-link').first().click();
  await page.waitForSelector('.reason .because');
  const because = await page.locator('.reasons .reason .because').first().textContent();
  const cite = await page.locator('ol.reasons .reason .cite').first().textContent();
  assert.ok(because.length > 10, because);
  assert.ok(cite.length > 3, cite);
  assert.ok(await page.locator('.reasons .reason .because').first().isVisible());
  assert.ok(await page.locator('ol.reasons .reason .cite').first().isVisible());
  // What the page shows is what the log holds.
  const id = decodeURIComponent(new URL(page.url()).hash.split('/').pop());
  const recorded = JSON.parse((await server.api(`/v1/decisions/${id}`, server.tokens.auditor)).body).decision;
  assert.deepEqual(await page.locator('ol.reasons > .reason .rule-id').allTextContents(),
    recorded.reasons.map((r) => r.rule));
  assert.ok(recorded.reasons.some((r) => r.rule.startsWith('privacy.')));
  await screenshot(page, 'decision');
  // Replay reproduces it under its own bundle.
  await page.click('#replay');
  await page.waitForSelector('#replay-result p');
  assert.match(await page.textContent('#replay-result'), /^Reproduced/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('verify walks the whole chain and says verified', async () => {
  const page = await newPage(browser);
  await signIn(page, server, server.tokens.auditor);
  await page.goto(`${server.url}/#/integrity`);
  // The seeding run signed its head on closing: the log still matches it.
  await page.waitForSelector('#checkpoints .checkpoint-verdict');
  assert.match(await page.textContent('#checkpoints .checkpoint-verdict'), /^Matches: the log still holds row \d+/);
  await page.click('#verify');
  await page.waitForSelector('#verify-result .verdict');
  const verdict = await page.textContent('#verify-result .verdict');
  assert.match(verdict, new RegExp(`^Verified: ${SEEDED} decisions`));
  assert.equal(await page.getAttribute('#verify-progress', 'value'), await page.getAttribute('#verify-progress', 'max'));
  await screenshot(page, 'integrity');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('an impact report for a candidate that disables one rule counts the decisions that rule decided', async () => {
  const rule = 'privacy.vendor_does_not_train_on_patient_data';
  // The expected count from the log itself: the decisions that rule decided.
  const stats = JSON.parse((await server.api('/v1/statistics?top=100', server.tokens.auditor)).body);
  const expected = stats.top_rules.find((r) => r.rule === rule)?.decisions;
  assert.ok(expected > 0, 'the seeded log has decisions made by the rule');
  const page = await newPage(browser);
  await signIn(page, server, server.tokens.auditor);
  await page.goto(`${server.url}/#/impact`);
  await page.selectOption('#candidate-file', 'privacy.ethos');
  const text = await page.inputValue('#candidate-text');
  const from = 'when identifiable_health_data and vendor.trains_on_inputs';
  assert.ok(text.includes(from));
  await page.fill('#candidate-text', text.replace(from, 'when false and vendor.trains_on_inputs'));
  await page.click('#impact-run');
  await page.waitForSelector('#impact-changed', {timeout: 60000});
  assert.equal(await page.getAttribute('#impact-changed', 'data-changed'), String(expected));
  // The chart of changes by outcome is drawn, and the rule's row counts them all.
  await page.waitForSelector('#impact-transitions canvas');
  const row = page.locator('tr', {has: page.locator(`a[href="#/policy/rule/${rule}"]`)});
  assert.equal((await row.locator('td').nth(1).textContent()).trim(), String(expected));
  await page.locator('#impact-results').scrollIntoViewIfNeeded();
  await screenshot(page, 'impact');
  // Drill-down: a changed decision, recorded and under the candidate, side by side.
  await page.locator('table.changes button.link').first().click();
  await page.waitForSelector('.side-by-side .decision >> nth=1');
  await screenshot(page, 'impact-drilldown');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the playground marks a broken rule at its line and decides once it is fixed', async () => {
  const page = await newPage(browser);
  await signIn(page, server, server.tokens.auditor);
  await page.goto(`${server.url}/#/playground`);
  // The form offers the schema's purposes as a set: the example's are chosen.
  const example = JSON.parse(await page.inputValue('#play-request'));
  const categories = page.locator('[id="req-purpose.categories"]');
  assert.equal(await categories.evaluate((el) => el.multiple), true);
  assert.deepEqual(await categories.evaluate((el) => [...el.selectedOptions].map((o) => o.value).sort()),
    [...example.purpose.categories].sort());
  assert.equal(await page.locator('[id="req-patient.may_self_consent"]').count(), 0);
  await page.selectOption('#play-file', 'privacy.ethos');
  const text = await page.inputValue('#play-text');
  const good = 'when identifiable_health_data and vendor.trains_on_inputs';
  const line = text.slice(0, text.indexOf(good)).split('\n').length;
  const col = text.split('\n')[line - 1].indexOf('vendor.trains_on_inputs') + 1;
  await page.fill('#play-text', text.replace(good, 'when identifiable_health_data and vendor.trains_on_inputz'));
  await page.click('#play-run');
  await page.waitForSelector('#play-diagnostics li');
  const first = await page.locator('#play-diagnostics li').first().textContent();
  assert.match(first, new RegExp(`privacy\\.ethos:${line}:${col}: error: unknown name \`vendor\\.trains_on_inputz\``));
  assert.match(await page.getAttribute(`.gutter .line[data-line="${line}"]`, 'class'), /mark-error/);
  assert.equal(await page.locator('#play-decision').count(), 0);
  // Its place opens the file at the line, the mark beside it.
  await page.locator('#play-diagnostics li button.link').first().click();
  await screenshot(page, 'playground-diagnostic');
  await page.fill('#play-text', text);
  await page.click('#play-run');
  await page.waitForSelector('#play-decision .outcome-line .badge');
  assert.match(await page.textContent('#play-decision .outcome-line .badge'), /^(permit|deny|escalate)$/);
  await screenshot(page, 'playground');
  // Nothing the playground decided reached the log.
  const v = JSON.parse((await server.api('/v1/verify', server.tokens.auditor)).body);
  assert.equal(v.decisions, SEEDED);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a decider token sees no audit pages, and the API refuses them', async () => {
  const page = await newPage(browser);
  await signIn(page, server, server.tokens.decider);
  assert.deepEqual(await page.locator('#nav a').allTextContents(), ['Policy']);
  await page.goto(`${server.url}/#/decisions`);
  await page.waitForSelector('main .error');
  assert.match(await page.textContent('main .error'), /a decider token may not use the Decisions page/);
  assert.equal(await page.locator('table.decisions').count(), 0);
  for (const p of ['/v1/decisions', '/v1/verify', '/v1/statistics', '/v1/playground/start']) {
    assert.equal((await server.api(p, server.tokens.decider)).status, 403, p);
  }
  assert.equal((await server.api('/v1/jobs/verify', server.tokens.decider, {method: 'POST', body: '{}'})).status, 403);
  await page.close();
});

test('a rule whose because holds <script> is shown as text and never runs', async () => {
  const page = await newPage(browser);
  await signIn(page, server, server.tokens.auditor);
  await page.goto(`${server.url}/#/policy/rule/${XSS_RULE}`);
  const card = page.locator(`article.rule[data-rule="${XSS_RULE}"] .because`);
  await card.waitFor();
  assert.match(await card.textContent(), /^<script>window\.__ethosInjected = true<\/script><img src=x onerror=/);
  assert.equal(await page.locator('main script, main img').count(), 0);
  assert.equal(await page.evaluate(() => window.__ethosInjected), undefined);
  await page.close();
});

test('the console is served with a CSP that allows no inline script or style', async () => {
  const res = await fetch(`${server.url}/`);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /style-src 'self'/);
  assert.equal(res.headers.get('set-cookie'), null);
});

test('the policy page draws a module rule graph with clusters and a legend, and statistics draws its plots', async () => {
  const page = await newPage(browser);
  await signIn(page, server, server.tokens.auditor);
  await page.goto(`${server.url}/#/policy`);
  await page.waitForSelector('#policy-list article.rule');
  await screenshot(page, 'policy');
  await page.goto(`${server.url}/#/policy/module/privacy`);
  await page.waitForSelector('#graph svg');
  const titles = await page.locator('#graph svg g.cluster > title').allTextContents();
  assert.ok(titles.includes('cluster_legend'), titles.join(','));
  const links = await page.locator('#graph svg a').count();
  assert.ok(links > 0, 'rules link to their page');
  await screenshot(page, 'policy-graph');
  await page.goto(`${server.url}/#/statistics`);
  await page.waitForSelector('#stats-outcomes canvas');
  await page.waitForSelector('#stats-rules canvas');
  await screenshot(page, 'statistics');
  assert.deepEqual(page.problems, []);
  await page.close();
  assert.ok(fs.existsSync(path.join(ARTIFACTS, 'statistics.png')));
});
