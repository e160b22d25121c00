#!/usr/bin/env node
// Opens the generated API reference (docs/api, from `npm run docs`) in headless Chromium, as a reader would:
// served from a tiny http server on 127.0.0.1, the index and every class page loaded, and the run fails on a
// console error, a page error or a failed request. It saves a screenshot of the index to
// docs/api-screenshot.png (look at it). Env: CHROMIUM_PATH (default /usr/bin/chromium).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const site = join(root, 'docs', 'api');
const screenshot = join(root, 'docs', 'api-screenshot.png');
if (!existsSync(join(site, 'index.html'))) {
  console.error('docs/api/index.html is missing: run `npm run docs` first');
  process.exit(1);
}

const types = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
};
const server = createServer((request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url, 'http://localhost').pathname));
  const file = join(site, path.endsWith('/') ? `${path}index.html` : path);
  if (!file.startsWith(site) || !existsSync(file)) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
  response.end(readFileSync(file));
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const base = `http://127.0.0.1:${server.address().port}`;

const pages = ['index.html'];
for (const folder of ['classes', 'functions', 'interfaces']) {
  const directory = join(site, folder);
  if (existsSync(directory)) for (const name of readdirSync(directory)) pages.push(`${folder}/${name}`);
}

const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error')
      problems.push(`${page.url()}: console error: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`${page.url()}: page error: ${error.message}`));
  page.on('requestfailed', (request) =>
    problems.push(`${request.url()}: request failed (${request.failure()?.errorText})`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.url()}: HTTP ${response.status()}`);
  });
  for (const path of pages) {
    await page.goto(`${base}/${path}`, { waitUntil: 'networkidle', timeout: 30_000 });
    const title = await page.title();
    if (!title.includes('coop-sync')) problems.push(`${path}: title "${title}" does not name the package`);
  }
  await page.goto(`${base}/index.html`, { waitUntil: 'networkidle', timeout: 30_000 });
  await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
  server.close();
}

for (const problem of problems) console.error(problem);
console.log(`docs: ${pages.length} pages opened, ${problems.length} problems; screenshot ${screenshot}`);
process.exitCode = problems.length === 0 ? 0 : 1;
