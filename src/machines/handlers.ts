/**
 * What the machine tells us, applied to the machine table: reports (telemetry, ball alerts) and
 * command outcomes (confirmed, refused, unconfirmed -> error + alert, DESIGN §5).
 */
import type { Logger } from 'pino'
import type { Clock } from '../lib/clock.js'
import type { EventBus } from '../lib/event-bus.js'
import type { HubEvents } from '../protocol/events.js'
import type { MachineControl } from '../protocol/messages.js'
import type { MachineTable } from './machine-table.js'
import type { CommandDriver, CommandOutcomes } from './command-driver.js'
import type { DispenserHandlers } from './dispenser-adapter.js'
import { applyReport, ballAlertChanges, ballAlertMessage } from './telemetry.js'

function describe(c: MachineControl): string {
  return c.session_id !== null ? `${c.status} (session ${c.session_id})` : c.status
}

export function createOutcomes(deps: { table: MachineTable; events: EventBus<HubEvents>; log: Logger }): CommandOutcomes {
  const { table, events, log } = deps
  const logFail = (id: number) => (error: unknown) => log.error({ err: error, machineId: id }, 'command outcome write failed')
  return {
    confirmed(command) {
      const id = command.machine_id
      table
        .update(id, (e, fx) => {
          // The machine applied the control: that is its state now, until its next report.
          e.record.reported_status = command.status
          e.record.session_id = command.session_id
          e.record.scheduled_until = command.scheduled_until
          e.record.error = null
          fx.clear('command_failed', 'error')
        })
        .catch(logFail(id))
    },
    refused(command, _confirmation, message) {
      const id = command.machine_id
      events.emit('command.failed', { command, reason: message })
      table
        .update(id, (e, fx) => {
          e.record.error = message
          fx.raise('error', `machine ${id} refused ${describe(command)}: ${message}`)
        })
        .catch(logFail(id))
    },
    failed(command, reason) {
      const id = command.machine_id
      events.emit('command.failed', { command, reason })
      table
        .update(id, (e, fx) => {
          e.record.error = `command ${describe(command)} failed: ${reason}`
          fx.raise('command_failed', `machine ${id} did not confirm ${describe(command)}: ${reason}`)
        })
        .catch(logFail(id))
    },
  }
}

export function createReportHandler(deps: { table: MachineTable; driver: CommandDriver; clock: Clock; log: Logger }): DispenserHandlers {
  const { table, driver, clock, log } = deps
  const logFail = (id: number) => (error: unknown) => log.error({ err: error, machineId: id }, 'report write failed')
  return {
    report(id, report) {
      const nowS = clock.now() / 1000
      const entry = table.get(id)
      if (entry?.fresh) {
        // A clean session: the control sent at connect can reach the machine before it has
        // subscribed, and is then lost. Its report on connect comes after its subscription,
        // so repeat the command now (same exchange id) rather than wait for the retry timer.
        entry.fresh = false
        driver.republish(id)
      }
      table
        .update(id, (e, fx) => {
          Object.assign(e.record, applyReport(e.record, report))
          e.record.last_seen = nowS
          e.history.push({ received_at: nowS, report })
          const ball = ballAlertChanges(e.record.alerts.map((a) => a.kind), report.ball_level)
          if (ball.raise) fx.raise(ball.raise, ballAlertMessage(id, report.ball_level))
          if (ball.clear.length > 0) fx.clear(...ball.clear)
          if (report.status === 'error') fx.raise('error', `machine ${id} reports an error`)
          else if (e.record.error === null) fx.clear('error')
        })
        .catch(logFail(id))
    },
    confirmation(id, confirmation) {
      if (!driver.confirm(id, confirmation)) {
        log.debug({ machineId: id, exchangeId: confirmation.exchange_id }, 'confirmation of no command in flight (late or superseded)')
      }
      table.update(id, (e) => void (e.record.last_seen = clock.now() / 1000)).catch(logFail(id))
    },
  }
}
