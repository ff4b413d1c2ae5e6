#!/usr/bin/env node
/**
 * Checks the built reference site (`pnpm run docs` writes it to docs/site) in a real
 * browser: Debian's headless chromium, driven by playwright-core, never a downloaded
 * browser. It serves the site on 127.0.0.1 and verifies that
 *
 * - the landing page, the page of every package and of every subpath export
 *   (`@org/core/express`, ...) and every guide render with their main heading (h1);
 * - the search box finds `requireRoles` and its result leads to an existing page;
 * - every same-origin link of the site (crawled from the landing page, including
 *   the navigation tree that scripts build) points at a file that exists, and every
 *   `#anchor` at an element of that page; no page loads a missing asset or throws;
 *
 * then saves a screenshot of the landing page to docs/site/screenshot-landing.png.
 * Exits 1 with one line per problem.
 *
 * Environment: CHROMIUM_PATH (default /usr/bin/chromium), DOCS_SITE (default docs/site).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, relative, resolve, sep } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..');
const SITE = resolve(ROOT, process.env.DOCS_SITE ?? 'docs/site');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(SITE, 'screenshot-landing.png');
const SEARCH_TERM = 'requireRoles';
const SEARCH_OWNER = '@org/auth';
const CONCURRENCY = 4;
const PAGE_TIMEOUT_MS = 15_000;

const problems = [];
const fail = (message) => problems.push(message);

// --- what the site must contain ------------------------------------------------

/** `{ name, packageName, subpath }` for every export of every package, from package.json. */
function expectedModules() {
  const modules = [];
  for (const dir of readdirSync(join(ROOT, 'packages')).sort()) {
    const file = join(ROOT, 'packages', dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    const subpaths = Object.keys(pkg.exports ?? { '.': null }).filter(
      (key) => key !== './package.json' && !key.includes('*'),
    );
    for (const subpath of subpaths) {
      modules.push({
        name: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
        packageName: pkg.name,
        subpath,
      });
    }
  }
  return modules;
}

/** Title of every guide listed in typedoc.json `projectDocuments` (front matter `title`, else its first `# `). */
function expectedGuides(config) {
  const guides = [];
  for (const pattern of config.projectDocuments ?? []) {
    if (pattern.includes('*')) {
      fail(`typedoc.json: list guides one by one in projectDocuments (found the glob ${pattern})`);
      continue;
    }
    const text = readFileSync(join(ROOT, pattern), 'utf8');
    const title =
      /^---\n[\s\S]*?^title:\s*(.+?)\s*$[\s\S]*?^---$/m.exec(text)?.[1] ??
      /^# (.+)$/m.exec(text)?.[1];
    if (title === undefined) fail(`${pattern}: no front matter title and no "# " heading`);
    else guides.push({ file: pattern, title: title.replace(/^["']|["']$/g, '') });
  }
  return guides;
}

// --- a tiny static server --------------------------------------------------------

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** The file a URL path names inside the site, or undefined when there is none. */
function fileOf(pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const file = normalize(join(SITE, decoded));
  if (file !== SITE && !file.startsWith(SITE + sep)) return undefined;
  try {
    const stats = statSync(file);
    if (stats.isFile()) return file;
    if (stats.isDirectory() && existsSync(join(file, 'index.html')))
      return join(file, 'index.html');
  } catch {}
  return undefined;
}

function startServer() {
  const server = createServer(async (req, res) => {
    const file = fileOf(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
    } else if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } else {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    }
  });
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => done(server));
  });
}

// --- the browser -----------------------------------------------------------------

/** Waits until typedoc's script has shown the page (it hides the body until then). */
async function settle(page) {
  await page.waitForFunction(() => document.body.style.display !== 'none', null, {
    timeout: PAGE_TIMEOUT_MS,
  });
}

/** The visible main heading: typedoc's page title, or the first heading of a guide. */
function mainHeading(page) {
  return page.evaluate(() => {
    const heading = document.querySelector('.col-content h1');
    if (heading === null) return undefined;
    const box = heading.getBoundingClientRect();
    const visible =
      box.width > 0 && box.height > 0 && getComputedStyle(heading).visibility !== 'hidden';
    return visible ? heading.textContent.trim() : undefined;
  });
}

function watchPage(page, origin, label) {
  page.on('pageerror', (error) => fail(`${label()}: script error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') fail(`${label()}: console error: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.url().startsWith(origin) && response.status() >= 400) {
      fail(`${label()}: ${response.status()} for ${response.url().slice(origin.length)}`);
    }
  });
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(origin)) {
      fail(`${label()}: request failed: ${request.url().slice(origin.length)}`);
    }
  });
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeHtml(text) {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name) => {
    if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? entity;
    const code =
      name[1] === 'x' || name[1] === 'X'
        ? Number.parseInt(name.slice(2), 16)
        : Number(name.slice(1));
    return String.fromCodePoint(code);
  });
}

/** The page path a URL names, `index.html` for a directory. */
function pathOf(url) {
  return url.pathname.endsWith('/') ? `${url.pathname}index.html` : url.pathname;
}

/**
 * Reads every page reachable from the landing page straight from disk, breadth
 * first: static links (`href`, `src`) and anchors (`id`, `name`) of each. The
 * navigation tree, which scripts build, is collected in the browser instead.
 */
function crawl(origin) {
  const pages = new Map(); // path -> { anchors }
  const links = []; // { from, url }
  const anchorsOf = (file) => {
    const text = readFileSync(file, 'utf8');
    const anchors = new Set();
    for (const match of text.matchAll(/\s(?:id|name)="([^"]*)"/g))
      anchors.add(unescapeHtml(match[1]));
    return { text, anchors };
  };
  const queue = ['/index.html'];
  const seen = new Set(queue);
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    const file = fileOf(path);
    if (file === undefined) continue;
    const { text, anchors } = anchorsOf(file);
    pages.set(path, { anchors });
    for (const match of text.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
      const url = new URL(unescapeHtml(match[1]), origin + path);
      if (url.origin !== origin) continue;
      links.push({ from: path, url });
      const target = pathOf(url);
      if (target.endsWith('.html') && !seen.has(target) && fileOf(url.pathname) !== undefined) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  // Anchors of the other files links point into (`icons.svg#icon-search`).
  for (const { url } of links) {
    const path = pathOf(url);
    const file = fileOf(url.pathname);
    if (url.hash !== '' && !pages.has(path) && file !== undefined && /\.(svg|html)$/.test(file)) {
      pages.set(path, { anchors: anchorsOf(file).anchors });
    }
  }
  return { pages, links };
}

function checkLinks(pages, links) {
  const reported = new Set();
  for (const { from, url } of links) {
    const path = pathOf(url);
    const key = `${path}${url.hash}`;
    if (reported.has(key)) continue;
    if (fileOf(url.pathname) === undefined) {
      reported.add(key);
      fail(`${from}: broken link to ${path}`);
      continue;
    }
    const fragment = decodeURIComponent(url.hash.slice(1));
    const target = pages.get(path);
    if (fragment === '' || target === undefined) continue;
    if (!target.anchors.has(fragment)) {
      reported.add(key);
      fail(`${from}: link to ${path}#${fragment}, an anchor that page does not have`);
    }
  }
}

/**
 * Opens `path` in the browser and checks it renders: HTTP 200, no script error or
 * missing asset (see {@link watchPage}), a visible main heading. Returns the
 * heading and every link of the rendered page, the script-built navigation included.
 */
async function render(page, origin, path) {
  const response = await page.goto(origin + path, { waitUntil: 'load' });
  if (response?.status() !== 200) {
    fail(`${path}: HTTP ${response?.status()}`);
    return { heading: undefined, links: [] };
  }
  await settle(page);
  await page.waitForFunction(
    () => document.querySelectorAll('#tsd-nav-container a[href]').length > 0,
    null,
    { timeout: PAGE_TIMEOUT_MS },
  );
  const heading = await mainHeading(page);
  const hrefs = await page.evaluate(() =>
    [...document.querySelectorAll('a[href]')].map((a) => a.href),
  );
  return {
    heading,
    links: hrefs.map((href) => new URL(href)).filter((url) => url.origin === origin),
  };
}

/**
 * Renders the landing page, every package and subpath page, every guide, and one
 * page of each other kind (class, interface, function...), a few at a time.
 */
async function renderPages(context, origin, paths) {
  const rendered = new Map();
  const queue = [...paths];
  const worker = async () => {
    const page = await context.newPage();
    let current = '';
    watchPage(page, origin, () => current);
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      current = path;
      rendered.set(path, await render(page, origin, path));
    }
    await page.close();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return rendered;
}

/** The page of each module and guide, found by the heading typedoc gives it. */
function findPages(pages, config, modules, guides) {
  const byTitle = new Map();
  for (const path of pages.keys()) {
    if (!path.endsWith('.html')) continue;
    const text = readFileSync(fileOf(path), 'utf8');
    const title = /<h1[^>]*>([\s\S]*?)<\/h1>/.exec(text)?.[1];
    if (title === undefined) continue;
    const plain = unescapeHtml(title.replace(/<[^>]*>/g, '')).trim();
    if (!byTitle.has(plain)) byTitle.set(plain, path);
  }
  const wanted = [
    { kind: 'landing', label: config.name, path: '/index.html', heading: config.name },
  ];
  for (const module of modules) {
    const heading = `Module ${module.name}`;
    const path = byTitle.get(heading);
    if (path === undefined) {
      fail(
        `package ${module.name}: no page with the heading "${heading}". Is the source of its ${module.subpath} export an entry point (packages/${module.packageName.split('/')[1]}/typedoc.json, or packageOptions.entryPoints in typedoc.json)? scripts/typedoc-subpath-modules.mjs names entry modules from their path: src/index.ts, src/<name>.ts or src/.../<name>/index.ts.`,
      );
    } else {
      wanted.push({ kind: 'package', label: module.name, path, heading });
    }
  }
  for (const guide of guides) {
    const path = byTitle.get(guide.title);
    if (path === undefined) fail(`guide ${guide.file}: no page with the heading "${guide.title}"`);
    else wanted.push({ kind: 'guide', label: guide.title, path, heading: guide.title });
  }
  // One page of every other kind, so each directory depth and layout is seen rendered.
  const directories = new Set(wanted.map(({ path }) => path.split('/')[1]));
  for (const path of pages.keys()) {
    const directory = path.split('/')[1];
    if (path.endsWith('.html') && !directories.has(directory)) {
      directories.add(directory);
      wanted.push({ kind: 'sample', label: directory, path, heading: undefined });
    }
  }
  return wanted;
}

async function checkSearch(context, origin, pages) {
  const page = await context.newPage();
  watchPage(page, origin, () => 'search');
  await page.goto(`${origin}/index.html`, { waitUntil: 'load' });
  await settle(page);
  await page.click('#tsd-search-trigger');
  await page.fill('#tsd-search-input', SEARCH_TERM);
  const result = page.locator('#tsd-search-results li a', { hasText: SEARCH_TERM }).first();
  try {
    await result.waitFor({ state: 'visible', timeout: PAGE_TIMEOUT_MS });
  } catch {
    const status = await page.locator('#tsd-search-status').textContent();
    const count = await page.locator('#tsd-search-results li').count();
    fail(
      `search: typing "${SEARCH_TERM}" in the search box gave no result named ${SEARCH_TERM} (${count} other results; status: ${JSON.stringify(status?.trim())}). ${SEARCH_OWNER} must export it (the Auth.requireRoles guard factory) with JSDoc, and the site must be rebuilt.`,
    );
    await page.close();
    return;
  }
  const href = await result.evaluate((a) => a.href);
  const url = new URL(href);
  const target = pages.get(url.pathname);
  if (target === undefined)
    fail(
      `search: the ${SEARCH_TERM} result links to ${url.pathname}, which is not a page of the site`,
    );
  else if (url.hash !== '' && !target.anchors.has(decodeURIComponent(url.hash.slice(1)))) {
    fail(
      `search: the ${SEARCH_TERM} result links to ${url.pathname}${url.hash}, an anchor that page does not have`,
    );
  } else {
    console.log(`ok  search   "${SEARCH_TERM}" -> ${url.pathname}${url.hash}`);
  }
  await page.close();
}

async function screenshot(context, origin) {
  const page = await context.newPage();
  await page.goto(`${origin}/index.html`, { waitUntil: 'load' });
  await settle(page);
  await page.waitForFunction(
    () => document.querySelectorAll('#tsd-nav-container a').length > 0,
    null,
    { timeout: PAGE_TIMEOUT_MS },
  );
  await page.screenshot({ path: SCREENSHOT });
  await page.close();
  console.log(`ok  screenshot ${relative(ROOT, SCREENSHOT)}`);
}

async function main() {
  if (!existsSync(join(SITE, 'index.html'))) {
    console.error(`${SITE}/index.html is missing: build the site first with \`pnpm run docs\`.`);
    return 1;
  }
  if (!existsSync(CHROMIUM)) {
    console.error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
    return 1;
  }
  const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8'));
  const modules = expectedModules();
  const guides = expectedGuides(config);

  const server = await startServer();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
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
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(PAGE_TIMEOUT_MS);
    // Nothing outside the site may load: the docs must work offline.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin)) return route.continue();
      fail(`a page loads ${url}: the site must not depend on anything outside it`);
      return route.abort();
    });
    const started = Date.now();
    const { pages, links } = crawl(origin);
    const wanted = findPages(pages, config, modules, guides);
    const rendered = await renderPages(
      context,
      origin,
      wanted.map(({ path }) => path),
    );
    for (const { kind, label, path, heading } of wanted) {
      const result = rendered.get(path);
      links.push(...(result?.links ?? []).map((url) => ({ from: path, url })));
      if (result?.heading === undefined) {
        fail(`${kind} ${label} (${path}): no visible main heading (h1)`);
      } else if (heading !== undefined && result.heading !== heading) {
        fail(
          `${kind} ${label} (${path}): main heading is "${result.heading}", expected "${heading}"`,
        );
      } else if (kind !== 'sample') {
        console.log(`ok  ${kind.padEnd(8)} ${label.padEnd(40)} ${path}`);
      }
    }
    checkLinks(pages, links);
    console.log(
      `checked ${links.length} links on ${pages.size} pages; rendered ${rendered.size} pages in chromium (${Date.now() - started} ms)`,
    );
    await checkSearch(context, origin, pages);
    await screenshot(context, origin);
  } finally {
    await browser.close();
    server.close();
  }
  if (problems.length > 0) {
    console.error(`\n${problems.length} problem(s) in the documentation site:`);
    for (const problem of problems) console.error(`  - ${problem}`);
    return 1;
  }
  console.log('the documentation site is complete and every internal link works');
  return 0;
}

process.exitCode = await main();
