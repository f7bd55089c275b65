/**
 * The targets in the order round `round` measures them: shuffled, the same shuffle for a round
 * number in every run (a seeded generator), so that no row always follows the same one. In a fixed
 * order the session row always came right after bare Express and read 3–6 µs a request dearer than
 * the API-key row, though one process loaded both ways alternately served them alike.
 */
export function roundOrder<T>(targets: readonly T[], round: number): T[] {
  const order = [...targets];
  let seed = (round + 1) * 0x9e3779b1;
  const next = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j] as T, order[i] as T];
  }
  return order;
}
