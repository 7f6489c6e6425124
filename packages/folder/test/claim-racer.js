// One of two claimers racing for a folder, round after round: the test (its parent) prepares a
// stale claim, says "go" to both at once over IPC, and hears back who won. A winner holds its
// claim until told to let go, so that both answers are in before either releases.
import { claimFolder, FolderHeldError } from '../dist/index.js';

const held = new Map();
process.on('message', async (message) => {
  if (message.type === 'go') {
    try {
      const claim = await claimFolder(message.folder, { purpose: 'race', staleAfterMs: 60_000 });
      held.set(message.folder, claim);
      process.send({ round: message.round, won: true, token: claim.holder.token });
    } catch (error) {
      process.send({
        round: message.round,
        won: false,
        refused: error instanceof FolderHeldError,
        message: String(error?.message ?? error),
      });
    }
  } else if (message.type === 'release') {
    await held.get(message.folder)?.release();
    held.delete(message.folder);
    process.send({ round: message.round, released: true });
  } else if (message.type === 'exit') {
    process.exit(0);
  }
});
process.send({ ready: true });
