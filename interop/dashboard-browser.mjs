// Opens the relay's dashboard in Debian's chromium (playwright-core, no browser download) and prints,
// as one JSON line, what the page shows once its script ran: tiles, chart bars, job rows.
// Usage: node dashboard-browser.mjs http://127.0.0.1:PORT/ [screenshot.png]
import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url, { waitUntil: 'load', timeout: 20000 });
  await page.waitForSelector('body[data-live="true"] #chart svg', { timeout: 20000 });
  const shown = await page.evaluate(() => {
    const value = (id) => document.getElementById(id)?.textContent.trim();
    return {
      live: document.body.dataset.live === 'true',
      chartBars: document.querySelectorAll('#chart svg rect.bar').length,
      chartLabel: document.querySelector('#chart svg')?.getAttribute('aria-label'),
      tiles: Object.fromEntries(['connections', 'authenticated', 'requests', 'feedback', 'results',
        'first-feedback-median', 'first-feedback-p95', 'result-median', 'result-p95'].map((id) => [id, value(id)])),
      jobs: [...document.querySelectorAll('#jobs tbody tr[data-job]')].map((tr) => ({
        id: tr.dataset.job, kind: tr.children[1].textContent, state: tr.children[2].textContent, provider: tr.children[4].textContent })),
      statuses: Object.fromEntries([...document.querySelectorAll('#statuses tbody tr')].map((tr) => [tr.children[0].textContent, tr.children[1]?.textContent])),
      providers: [...document.querySelectorAll('#providers tbody tr')].map((tr) => tr.children[0].textContent),
      updated: value('updated'),
    };
  });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ ...shown, errors }));
} finally {
  await browser.close();
}
