// Each test makes a prescriber of its own, so the suite runs again and again, and in
// parallel, against one sandbox without a reset.
import { test, expect } from '@playwright/test';
import { addAppToken, newPrescriber, signIn } from '../sandbox';

test('a prescriber adds an app token', async ({ page, request }) => {
  const prescriber = await newPrescriber(request);
  await signIn(page, request, prescriber, prescriber.tokens[0]);
  const token = await addAppToken(page, request, 'iPhone', 'My iPhone');
  await page.goto('/tokens');
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: token.credential_id }) });
  await expect(row.getByRole('cell', { name: 'Active', exact: true })).toBeVisible();
});

test('a prescriber signs in with the new app token', async ({ page, request }) => {
  const prescriber = await newPrescriber(request);
  await signIn(page, request, prescriber, prescriber.tokens[0]);
  const token = await addAppToken(page, request, 'Android', 'My Android');
  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, request, prescriber, token);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(prescriber.name);
});
