/** Issue 18 at the tablet screen: every check of tablet-flow.ts (one file per screen keeps each under the file timeout). */
import t from 'tap'
import { SCREENS, testScreen } from './tablet-flow.js'

testScreen(t, SCREENS.tablet!)
