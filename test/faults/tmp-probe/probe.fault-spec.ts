import { createTestEnvironment } from '../../support/test-environment';
import { publishThroughApi, setUpTenant, startSubscriptionsProcess, stopProcesses, ticketEvent } from '../../support/faults';
it('probe', async () => {
  const env = await createTestEnvironment();
  const s = await startSubscriptionsProcess(env);
  try {
    const t = await setUpTenant(s.api, 'http://127.0.0.1:9/x', ['ticket.updated']);
    for (const c of [1, 8, 32]) {
      const evs = Array.from({ length: 500 }, (_, i) => ticketEvent(i + c * 1000));
      const t0 = Date.now();
      const r = await publishThroughApi(s.api, t.publisherKey, evs, { concurrency: c });
      console.log(c, Date.now() - t0, 'ms', r.errors, [...r.errorKinds]);
    }
  } finally { await stopProcesses([s.process]); await env.teardown(); }
});
