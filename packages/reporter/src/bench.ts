/**
 * @deprecated The query bench moved to the store (`@squash/store/bench`, `node dist/search/bench.js`
 * in packages/store) with the search it measures; this re-export stays only while packages/cli's
 * bench_report imports it from here (issue 11).
 */
export { buildBenchDb } from '@squash/store/bench';
