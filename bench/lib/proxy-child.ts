/**
 * The impairment proxy in its own process, so its timers and copies do not share an event loop
 * with the load generator's arrival timestamps. Driven over IPC by proxy-process.ts.
 */
import { performance } from 'node:perf_hooks';
import { ImpairmentProxy, type ImpairmentProxyOptions } from '../../src/loadtest/impairment-proxy.js';
import type { ProxyReply, ProxyRequest } from './proxy-process.js';

const reply = (m: ProxyReply): void => void process.send?.(m);
const proxy = await ImpairmentProxy.start(JSON.parse(process.argv[2]!) as ImpairmentProxyOptions);
process.on('message', (m: ProxyRequest) => {
  if (m.kind === 'cut') {
    const cut = proxy.cutFor(m.ms);
    reply({
      kind: 'cut',
      fromEpochMs: performance.timeOrigin + cut.from,
      untilEpochMs: performance.timeOrigin + cut.until,
    });
  } else {
    const stats = proxy.stats();
    void proxy
      .close()
      .then(() => process.send?.({ kind: 'stopped', stats } satisfies ProxyReply, () => process.exit(0)));
  }
});
reply({ kind: 'listening', port: proxy.port });
