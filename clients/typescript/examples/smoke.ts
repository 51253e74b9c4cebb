// Run by tests/test_clients.py against a live server: `node dist/examples/smoke.js BASE_URL`.
// Prints one JSON line the test checks. Also type-checked, so its typed accesses must compile.
import { ApiError, createClient } from "../src/index.js";

declare const process: { argv: string[] }; // Node's, without @types/node

const api = createClient({ baseUrl: process.argv[2] ?? "http://127.0.0.1:8000" });

const page = await api.list("/v1/metrics", { unit: "元", sort: "-value", limit: 5 });
const top = page.data[0];

let iterated = 0;
const ids = new Set<string>();
for await (const metric of api.iterate("/v1/metrics", { limit: 7 })) {
  iterated += 1;
  ids.add(metric.id);
}
const first = await api.list("/v1/metrics", { limit: 1, count: "exact" });

const detail = top ? await api.get("/v1/metrics/{metric_id}", { metric_id: top.id }) : null;
const document = detail
  ? await api.get("/v1/documents/{document_id}", { document_id: detail.document })
  : null;
const quoteAtSpan =
  detail && document
    ? document.text.slice(detail.span.start, detail.span.end) === detail.quote
    : false;

// An exact non-integral value, read as the number the server printed.
const growth = await api.get("/v1/metrics/{metric_id}", {
  metric_id: "qiang-cun-gong-si-li-run-tong-bi-zeng-zhang",
});

let rejected: string[] = [];
let kind: string | null = null;
let codes: Record<string, string> = {};
try {
  await api.list("/v1/metrics", { cursor: "not-a-cursor" });
} catch (error) {
  if (error instanceof ApiError) {
    rejected = error.invalidParams;
    kind = error.kind;
    codes = error.invalidCodes;
  }
}

console.log(
  JSON.stringify({
    topRaw: top?.raw ?? null,
    topValue: top?.value ?? null,
    topCurrency: top?.currency ?? null,
    topUnitCode: top?.unit_code ?? null,
    growthValue: growth.value,
    iterated,
    distinct: ids.size,
    total: first.total.value,
    quoteAtSpan,
    rejected,
    kind,
    codes,
  }),
);
