// Driving the wizard in a harness page: the steps tests share.
import type { Page } from 'playwright-core';

/** The wizard step button named `name` (e.g. "9. Evaluate"). */
export const wizardStep = (page: Page, name: string) => page.getByRole('navigation', { name: 'wizard steps' }).getByRole('button', { name });

/** Opens the Languages step and leaves exactly `codes` chosen. */
export async function chooseLanguages(page: Page, codes: readonly string[]): Promise<void> {
  await wizardStep(page, '1. Languages').click();
  await page.waitForSelector('table.languages tbody tr');
  for (const code of await page.locator('table.languages tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')!))) {
    const box = page.locator(`tr[data-code=${code}] input[type=checkbox]`);
    if (codes.includes(code)) await box.check();
    else await box.uncheck();
  }
}
