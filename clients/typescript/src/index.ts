// A thin, dependency-free client over `fetch`, typed by `schema.d.ts` (generated from
// openapi/v1.json by `make openapi`; never edit it by hand).
//
//   const api = createClient({ baseUrl: "https://api.example.org" });
//   const page = await api.list("/v1/metrics", { unit: "元", sort: "-value", limit: 5 });
//   for await (const metric of api.iterate("/v1/metrics", { kind: "money" })) { ... }
//   const metric = await api.get("/v1/metrics/{metric_id}", { metric_id: "..." });
import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";
export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

type JsonBody<Op> = Op extends { responses: { 200: { content: { "application/json": infer B } } } }
  ? B
  : never;

// A list or detail answers its full form, or under `fields=` a sparse one where only `id` is
// required (`…Sparse` in the spec). The client's `list`, `get` and `iterate` send no `fields`,
// so they are typed with the full form; `Sparse` names the other one.
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];
type Record_<B> = B extends { data: (infer I)[] } ? I : B;
type IsSparse<B> = [Exclude<RequiredKeys<Record_<B>>, "id">] extends [never] ? true : false;
type JsonOk<Op> = JsonBody<Op> extends infer B ? (B extends B ? (IsSparse<B> extends true ? never : B) : never) : never;
export type Sparse<Op> = JsonBody<Op> extends infer B ? (B extends B ? (IsSparse<B> extends true ? B : never) : never) : never;
type GetOf<P extends keyof paths> = paths[P] extends { get: infer Op } ? Op : never;

/** Paths whose GET answers a page: `{data: [...], page: {next_cursor, ...}}`. */
export type ListPath = {
  [P in keyof paths]: JsonOk<GetOf<P>> extends { data: unknown[]; page: { next_cursor: unknown } }
    ? P
    : never;
}[keyof paths];

/** Paths with a `{…}` parameter whose GET answers one record. */
export type DetailPath = {
  [P in keyof paths]: P extends `${string}{${string}}${string}`
    ? GetOf<P> extends never
      ? never
      : P
    : never;
}[keyof paths];

export type QueryOf<P extends keyof paths> =
  GetOf<P> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
export type PathParamsOf<P extends keyof paths> =
  GetOf<P> extends { parameters: { path: infer A } } ? A : never;
export type PageOf<P extends ListPath> = JsonOk<GetOf<P>>;
export type ItemOf<P extends ListPath> = PageOf<P> extends { data: (infer I)[] } ? I : never;
type AnyPage<Item> = { data: Item[]; page: { next_cursor: string | null } };
export type RecordOf<P extends DetailPath> = JsonOk<GetOf<P>>;

export interface ClientOptions {
  /** Scheme and host, e.g. `https://api.example.org` (no trailing `/v1`). */
  baseUrl: string;
  /** Defaults to the global `fetch` (browsers, Node ≥ 18). */
  fetch?: typeof fetch;
  /** Sent with every request, e.g. `{ Authorization: "Bearer …" }` for curator writes. */
  headers?: Record<string, string>;
}

/** A 4xx/5xx answer: the status and the RFC 9457 problem body when the server sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.name = "ApiError";
  }

  /** Names of the parameters or body fields the server rejected. */
  get invalidParams(): string[] {
    return (this.problem?.invalid_params ?? []).map((p) => p.name);
  }

  /** The problem kind, the last segment of its stable `type` URI (`not-found`,
   * `validation-failed`, `idempotency-key-reused`, …): branch on this, not on `detail`. */
  get kind(): string | null {
    const type = this.problem?.type;
    return type ? (type.split("/").pop() ?? null) : null;
  }

  /** The machine code of each rejected input, by name (`{ limit: "out_of_range" }`). */
  get invalidCodes(): Record<string, string> {
    return Object.fromEntries((this.problem?.invalid_params ?? []).map((p) => [p.name, p.code]));
  }
}

type QueryValue = string | number | boolean | readonly (string | number | boolean)[] | null;

/** Query string as the spec describes it: lists are comma-separated (`style: form`,
 * `explode: false`), undefined and null values are left out. */
export function queryString(query: Record<string, QueryValue | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    params.append(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function fillPath(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

export function createClient(options: ClientOptions) {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = options.baseUrl.replace(/\/+$/, "");

  async function getJson<T>(path: string, query: object): Promise<T> {
    const url = base + path + queryString(query as Record<string, QueryValue | undefined>);
    const response = await fetchImpl(url, {
      headers: { Accept: "application/json", ...options.headers },
    });
    if (!response.ok) {
      const type = response.headers.get("content-type") ?? "";
      const problem = type.includes("json") ? ((await response.json()) as Problem) : null;
      throw new ApiError(response.status, problem);
    }
    return (await response.json()) as T;
  }

  return {
    /** One page of a list. Pass `page.next_cursor` as `cursor` for the next one. */
    list<P extends ListPath>(path: P, query?: QueryOf<P>): Promise<PageOf<P>> {
      return getJson<PageOf<P>>(path, query ?? {});
    },

    /** Every item matching `query`, page after page (keyset cursors: no item is skipped or
     * repeated while the data does not change). */
    async *iterate<P extends ListPath>(path: P, query?: QueryOf<P>): AsyncGenerator<ItemOf<P>> {
      let cursor: string | null = null;
      do {
        const page: AnyPage<ItemOf<P>> = await getJson(path, { ...query, cursor });
        yield* page.data;
        cursor = page.page.next_cursor;
      } while (cursor !== null);
    },

    /** One record by its path parameters, e.g. `{ metric_id: "…" }`. */
    get<P extends DetailPath>(
      path: P,
      params: PathParamsOf<P>,
      query?: QueryOf<P>,
    ): Promise<RecordOf<P>> {
      const filled = fillPath(path, params as Record<string, string | number>);
      return getJson<RecordOf<P>>(filled, query ?? {});
    },
  };
}

export type Client = ReturnType<typeof createClient>;
