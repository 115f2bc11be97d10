// The wizard's sandbox API (docs/SANDBOX-API.md) and the few page steps the tests share,
// found by role and label as a person would.
import { APIRequestContext, Page, expect } from '@playwright/test';

export type Token = { credential_id: string; name: string; status: string; kind: string };
export type Prescriber = { npi: string; passphrase: string; name: string; tokens: Token[] };

export async function newPrescriber(request: APIRequestContext): Promise<Prescriber> {
  const response = await request.post('/sandbox/api/prescribers', { data: {} });
  expect(response.status()).toBe(201);
  return response.json();
}

export async function newCredential(request: APIRequestContext, kind = 'vip-app'): Promise<string> {
  const response = await request.post('/sandbox/api/credentials', { data: { kind } });
  expect(response.status()).toBe(201);
  return (await response.json()).credential_id;
}

// A code the wizard has not accepted yet: the answer may wait for the next 30-second step.
export async function freshCode(request: APIRequestContext, credentialId: string): Promise<string> {
  const response = await request.get(`/sandbox/api/otp/${credentialId}?fresh=1`, { timeout: 45_000 });
  expect(response.status()).toBe(200);
  return (await response.json()).code;
}

export async function signIn(page: Page, request: APIRequestContext, who: Prescriber, token: Token) {
  await page.goto('/sign-in');
  await page.getByLabel('NPI', { exact: true }).fill(who.npi);
  await page.getByLabel('Passphrase', { exact: true }).fill(who.passphrase);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('radio', { name: `${token.name} (${token.credential_id})` }).check();
  await page.getByLabel('Security code').fill(await freshCode(request, token.credential_id));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('banner')).toContainText(`Signed in as ${who.name}`);
}

export async function addAppToken(page: Page, request: APIRequestContext, platform: string, name: string): Promise<Token> {
  const credentialId = await newCredential(request);
  const heading = page.getByRole('heading', { level: 1 });
  await page.goto('/enroll');
  await page.getByRole('radio', { name: new RegExp(`^VIP Access app on an? ${platform}\\b`) }).check();
  await page.getByRole('button', { name: 'Show me how' }).click();
  await page.getByLabel(/different device from the one I use/).check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Credential ID').fill(credentialId);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Security code').fill(await freshCode(request, credentialId));
  await page.getByRole('button', { name: 'Check code' }).click();
  await page.getByLabel('Token name').fill(name);
  await page.getByRole('button', { name: 'Save token' }).click();
  await expect(heading).toContainText('Your token is saved');
  return { credential_id: credentialId, name, status: 'Active', kind: 'vip-app' };
}
