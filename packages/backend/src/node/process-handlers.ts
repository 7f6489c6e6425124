const EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Runs `start` (a backend's initialisation), then takes away the process handlers it added.
 * Emscripten's glue (tfjs-backend-wasm's) installs an `uncaughtException` and an
 * `unhandledRejection` handler that rethrow: every uncaught error of the application then seemed
 * to come from the glue, and Node printed the line it was "thrown" at, 60 KB of minified source,
 * before the error itself. The application's own handlers, and Node's default, stay as they were.
 */
export async function withoutAddedProcessHandlers<T>(start: () => Promise<T>): Promise<T> {
  const listeners = (event: (typeof EVENTS)[number]): ((...args: unknown[]) => void)[] =>
    process.listeners(event as 'uncaughtException') as never;
  const before = new Map(EVENTS.map((event) => [event, new Set(listeners(event))]));
  try {
    return await start();
  } finally {
    for (const event of EVENTS) {
      for (const listener of listeners(event)) if (!before.get(event)!.has(listener)) process.off(event, listener);
    }
  }
}
