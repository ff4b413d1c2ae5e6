/**
 * What prom-client's registry reads from a metric (`get()`, `getForPromString()`): the
 * package's own metrics answer with their name, help, type, aggregator and `values`.
 */
export function metricData<
  M extends { name: string; help: string; type: string; aggregator: string },
  V,
>(
  metric: M,
  values: V,
): Promise<{
  name: string;
  help: string;
  type: M['type'];
  values: V;
  aggregator: M['aggregator'];
}> {
  return Promise.resolve({
    name: metric.name,
    help: metric.help,
    type: metric.type,
    values,
    aggregator: metric.aggregator,
  });
}
