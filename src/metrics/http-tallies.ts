import { Counter, type Metric, type Registry } from 'prom-client';

/** Upper bounds of the request-duration buckets, in seconds. */
export const HTTP_DURATION_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/**
 * The requests of one method on one route (a route pattern, never a raw path): how long they took,
 * by bucket, and how they were answered, by status.
 */
export class RouteTally {
  /** `counts[i]`: requests that took at most bucket `i`'s bound and more than the one before; the last slot, longer than every bound. */
  readonly counts: number[];
  sum = 0;
  readonly statuses = new Map<number, number>();

  constructor(
    readonly method: string,
    readonly route: string,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  record(seconds: number, status: number): void {
    let i = 0;
    while (i < this.bounds.length && seconds > (this.bounds[i] ?? Infinity)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += seconds;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }
}

/**
 * The HTTP request metrics, counted per route without prom-client on the request path.
 *
 * prom-client hashes a metric's label values on every observation, even through a labelled child:
 * the two HTTP metrics cost about 6% of the event loop's time on a cached `GET /users/me`
 * (docs/performance.md). A route's tally is found once, when the route is registered (see
 * HttpMetrics), and a request only adds to it. At scrape time the tallies become the two metrics'
 * series in prom-client's registry, the same series prom-client would have made
 * (test/unit/http-tallies.test.ts compares them).
 */
export class HttpTallies {
  /** Every tally, in the order they were made (the order of the series at a scrape). */
  private readonly tallies: RouteTally[] = [];
  /** The same tallies by route, then by method. */
  private readonly byRoute = new Map<string, Map<string, RouteTally>>();

  /** `gatehouse_http_requests_total{method, route, status}`. */
  readonly requests: Counter<'method' | 'route' | 'status'>;
  /** `gatehouse_http_request_duration_seconds{method, route}`. */
  readonly duration: TalliedHistogram;

  constructor(registry: Registry) {
    const all = (): Iterable<RouteTally> => this.tallies;
    this.requests = new Counter({
      name: 'gatehouse_http_requests_total',
      help: 'HTTP requests',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
      // Set from the tallies at each scrape (a counter's value is what it has counted so far).
      collect(this: Counter<'method' | 'route' | 'status'>) {
        this.reset();
        for (const t of all()) {
          for (const [status, n] of t.statuses) {
            this.inc({ method: t.method, route: t.route, status: String(status) }, n);
          }
        }
      },
    });
    this.duration = new TalliedHistogram(registry, all);
  }

  /** The tally of `method` on `route`, made on first use. */
  tally(method: string, route: string): RouteTally {
    return this.ofRoute(route)(method);
  }

  /**
   * `route`'s tallies by method, for a hook that serves only that route: a request then looks up
   * its method alone (a route's methods are few: one, and HEAD).
   */
  ofRoute(route: string): (method: string) => RouteTally {
    let methods = this.byRoute.get(route);
    if (!methods) {
      methods = new Map<string, RouteTally>();
      this.byRoute.set(route, methods);
    }
    return (method) => {
      let t = methods.get(method);
      if (!t) {
        t = new RouteTally(method, route, HTTP_DURATION_BUCKETS);
        methods.set(method, t);
        this.tallies.push(t);
      }
      return t;
    };
  }
}

/** One series of a metric as prom-client's registry reads it. */
interface Series {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
  /** prom-client's histogram buckets carry `exemplar: null` when exemplars are off. */
  exemplar?: null;
}

/**
 * The duration histogram, its series made from the tallies at scrape time: the fields and methods
 * prom-client's registry reads of a metric (`get()` for both the text and the JSON form, `reset()`
 * for `resetMetrics()`), in the shape its own Histogram gives.
 */
export class TalliedHistogram {
  readonly name = 'gatehouse_http_request_duration_seconds';
  readonly help = 'HTTP request duration';
  readonly type = 'histogram';
  /** How a cluster's workers' series combine (prom-client's AggregatorRegistry). */
  readonly aggregator = 'sum';

  constructor(
    registry: Registry,
    private readonly tallies: () => Iterable<RouteTally>,
  ) {
    // prom-client's types list only its own four metric classes; its registry reads only the fields
    // above (https://github.com/siimon/prom-client/blob/master/lib/registry.js).
    registry.registerMetric(this as unknown as Metric);
  }

  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: Series[];
  }> {
    const values: Series[] = [];
    const bucket = `${this.name}_bucket`;
    for (const t of this.tallies()) {
      const labels = { method: t.method, route: t.route };
      let below = 0;
      HTTP_DURATION_BUCKETS.forEach((le, i) => {
        below += t.counts[i] ?? 0;
        values.push({
          labels: { le, ...labels },
          value: below,
          metricName: bucket,
          exemplar: null,
        });
      });
      const count = below + (t.counts[HTTP_DURATION_BUCKETS.length] ?? 0);
      values.push(
        { labels: { le: '+Inf', ...labels }, value: count, metricName: bucket, exemplar: null },
        { labels, value: t.sum, metricName: `${this.name}_sum` },
        { labels, value: count, metricName: `${this.name}_count` },
      );
    }
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, aggregator, values });
  }

  /** The tallies count from start-up; nothing here to reset. */
  reset(): void {}
}
