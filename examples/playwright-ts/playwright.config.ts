// Another team's Playwright Test suite against the EPCS token wizard's sandbox.
//   WIZARD_URL=http://127.0.0.1:5000 npx playwright test
// Where Playwright cannot download its own browsers, it launches the Chromium at $CHROMIUM
// (Debian's /usr/bin/chromium by default).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  // A fresh code may wait up to one 30-second time step.
  timeout: 90_000,
  fullyParallel: true,
  reporter: 'list',
  use: {
    baseURL: process.env.WIZARD_URL ?? 'http://127.0.0.1:5000',
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      // Without the networking flags Chromium keeps calling Google's services.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
