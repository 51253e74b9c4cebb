// Type-checked by tests/test_clients.py against types generated from openapi/v1.json:
//   npx openapi-typescript openapi/v1.json -o schema.d.ts && npx tsc --noEmit --strict usage.ts
import type { components, operations, paths } from "./schema";

type MetricPage = components["schemas"]["MetricPage"];
// What the list operation answers: the full page, or the sparse one under `fields=`.
type MetricListBody =
  paths["/v1/metrics"]["get"]["responses"]["200"]["content"]["application/json"];
type MetricQuery = NonNullable<operations["listMetrics"]["parameters"]["query"]>;
type Metric = components["schemas"]["MetricOut"];
type Problem =
  paths["/v1/metrics"]["get"]["responses"]["400"]["content"]["application/problem+json"];
type Meta = paths["/v1/meta"]["get"]["responses"]["200"]["content"]["application/json"];

export function firstValue(page: MetricPage): number {
  return page.data[0].value;
}

export function describe(metric: Metric): string {
  const unit: string | null = metric.unit;
  return `${metric.raw} (${metric.value} ${unit ?? ""}) — "${metric.quote}" @${metric.span.start}`;
}

export const bigMoney: MetricQuery = {
  unit: "元",
  value__gte: 100000000,
  sort: "-value",
  limit: 5,
};

// Under `fields=` only `id` is certain: every other field may be absent.
export function sparseValues(page: components["schemas"]["MetricSparsePage"]): (number | undefined)[] {
  return page.data.map((metric) => metric.value);
}

export function anyFirstValue(body: MetricListBody): number | undefined {
  return body.data[0]?.value;
}

// `expand=region`: the related record as its list shows it, or null.
export function regionName(metric: Metric): string | null | undefined {
  const region = metric.expanded?.region;
  return region === null ? null : region?.name;
}

export function kindIsDeclared(metric: Metric): boolean {
  const kinds: Metric["kind"][] = ["money", "count"];
  return kinds.includes(metric.kind);
}

export function nextCursor(page: MetricPage): string | null {
  return page.page.next_cursor;
}

export function badParameters(problem: Problem): string[] {
  return (problem.invalid_params ?? []).map((p) => p.name);
}

export function units(meta: Meta): (string | null)[] {
  return meta.enumerations.metric_units.map((u) => u.value);
}

// Exact numbers with machine-readable codes: money carries its currency.
export function money(metric: Metric): string | null {
  return metric.currency === null ? null : `${metric.value} ${metric.currency}`;
}

export const approximateYuan: MetricQuery = {
  unit_code: "yuan",
  qualifier_code__in: ["more_than", "at_least"],
};

export function unitCodes(meta: Meta): [string, string][] {
  return meta.vocabularies.units.map((u) => [u.code, u.label_en]);
}

export async function listMetrics(base: string, query: MetricQuery): Promise<MetricPage> {
  const params = new URLSearchParams(
    Object.entries(query).map(([key, value]) => [key, String(value)]),
  );
  const response = await fetch(`${base}/v1/metrics?${params}`);
  if (!response.ok) {
    throw new Error(badParameters((await response.json()) as Problem).join(", "));
  }
  return (await response.json()) as MetricPage;
}

// The types are real, not `any`: each line below must fail to compile.
// @ts-expect-error: no field `valeu`
export const typo = (page: MetricPage) => page.data[0].valeu;
// @ts-expect-error: `unti` is not a parameter of listMetrics
export const unknownParameter: MetricQuery = { unti: "元" };
// @ts-expect-error: `value` is a number
export const wrongType = (metric: Metric): string => metric.value;
// @ts-expect-error: `currency` is null when the figure is not money
export const alwaysCurrency = (metric: Metric): string => metric.currency;
