import { basename, dirname } from 'node:path';
import { DEFAULT_DASHBOARD_PORT } from '@rxvision/dashboard';
import type { RunEvent } from '@rxvision/experiment';
import type { TrainingEvent } from '@rxvision/train';
import { concatMap, type MonoTypeOperatorFunction, Subject } from 'rxjs';
import { openDashboard } from './commands/dashboard.js';

/** With --dashboard: serves the run folder's parent, this run live, from the run's start until it ends. */
export function liveDashboard(port: boolean | string | undefined): MonoTypeOperatorFunction<RunEvent> {
  return (events) => {
    if (port === undefined || port === false) return events;
    const live = new Subject<TrainingEvent>();
    let close = async () => {};
    return events.pipe(
      concatMap(async (event) => {
        if (event.type === 'start') {
          const dashboard = await openDashboard({
            runsDir: dirname(event.folder),
            host: '127.0.0.1',
            port: port === true ? String(DEFAULT_DASHBOARD_PORT) : port,
            live: { run: basename(event.folder), events: live, stepsPerEpoch: event.stepsPerEpoch },
          });
          console.error(`dashboard: ${dashboard.url} (this run is ${basename(event.folder)}; it closes when training ends)`);
          close = () => dashboard.close();
        } else if (event.type !== 'prepare' && event.type !== 'finish') {
          live.next(event);
        }
        // After the summary, so that the page shows the run finished (a failure ends the process, and the server with it).
        if (event.type === 'finish' || event.type === 'stopped') {
          live.complete();
          await close();
        }
        return event;
      }),
    );
  };
}
