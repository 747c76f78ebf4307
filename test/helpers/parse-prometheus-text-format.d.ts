/** parse-prometheus-text-format (a test's parser of the exposition format) ships no types. */
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
