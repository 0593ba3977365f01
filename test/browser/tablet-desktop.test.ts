/** Issue 18 at the desktop screen: every check of tablet-flow.ts (one file per screen keeps each under the file timeout). */
import t from 'tap'
import { SCREENS, testScreen } from './tablet-flow.js'
import { addAxe, axeViolations, serious, summary } from './axe.js'
import { browserSkipReason, buildBrowserWorld } from './world.js'

testScreen(t, SCREENS.desktop!)

// /docs is the third-party swagger-ui: its findings are reported; the check is that none of the
// serious ones comes from what the hub adds around it (all lie inside swagger-ui's own markup).
declare const document: { querySelector(selector: string): { closest(selector: string): unknown } | null }

t.test('/docs (third-party swagger-ui): axe-core findings reported, none from our setup', { skip: browserSkipReason() ?? false }, async (t) => {
  const w = await buildBrowserWorld(t, 0, { width: 1366, height: 768 })
  await addAxe(w.context)
  const page = await w.page([])
  await page.goto(`${w.base}/docs`)
  await page.waitForSelector('.opblock-summary-path')
  const violations = await axeViolations(page)
  t.comment(`axe on /docs (swagger-ui, not ours): ${summary(violations)}`)
  for (const line of serious(violations)) t.comment(line)
  const targets = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').flatMap((v) => v.nodes.map((n) => n.target.join(' ')))
  const outside = []
  for (const target of targets) {
    if (!(await page.evaluate((sel) => document.querySelector(sel)?.closest('#swagger-ui, .swagger-ui') != null, target))) outside.push(target)
  }
  t.same(outside, [], 'every serious finding is inside swagger-ui itself')
})
