/**
 * axe-core in the page (issue 18: 0 serious or critical violations on sign-in, admin and kiosk).
 * The pages' CSP (script-src 'self') refuses an injected <script>, so axe's source goes in as an
 * init script of the browser context: Chromium runs those before the page's own scripts, outside
 * the CSP, in every page and frame. The CSP the pages ship with stays on for the test.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { BrowserContext, Page } from 'playwright-core'

const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export async function addAxe(context: BrowserContext): Promise<void> {
  await context.addInitScript({ content: source })
}

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: Array<{ target: string[]; failureSummary?: string }>
}

// Page-side (a function, not a string: the CSP forbids eval); no DOM types in the test tsconfig.
declare const axe: { run(context: unknown, options: object): Promise<{ violations: AxeViolation[] }> }
declare const document: unknown

/** Violations of WCAG 2.x A/AA and best practices on what the page shows now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  return page.evaluate(async () => {
    const result = await axe.run(document, { resultTypes: ['violations'] })
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }))
  })
}

/** The serious and critical ones, as short lines for a test message. */
export function serious(violations: AxeViolation[]): string[] {
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', ')}${v.nodes.length > 5 ? ` and ${v.nodes.length - 5} more` : ''}`)
}

export function summary(violations: AxeViolation[]): string {
  return violations.map((v) => `${v.impact} ${v.id} x${v.nodes.length}`).join('; ') || 'none'
}
