"""Curation: create, merge-patch, soft delete and restore of the registry's writable resources
(articles, initiatives, metrics, organisations), behind bearer API keys (service/auth.py).

- rules.py    the data rules, pure, shared with the seed loader; a `Context` for what they look up
- bodies.py   strict JSON decoding of the bodies and their OpenAPI refinements
- fields.py   API field <-> column, derived from the In Struct and the table
- context.py  the `Context` of one write, fetched from the database
- index.py    search entries of written records
- ops.py      the four operations, with explicit arguments (no Request)
- openapi.py  error responses, `If-Match`, operation classes and route options
- routes.py   the Litestar handlers, made from the registry

Rules, the same for every resource:
- Bodies are JSON (`application/json`; `application/merge-patch+json` too on PATCH), else a 415.
  They are decoded strictly into their types (service/curation/bodies.py): wrong JSON types, unknown
  fields, over-long strings or lists, malformed or too deeply nested JSON are a 400.
- Every write is validated with the seed loader's rules (service/curation/rules.py): text holds no control
  character (NUL included: PostgreSQL cannot store it, so neither database accepts it) and is
  never blank; quote exactly at its span in the document text, `value`/`unit`/`qualifier` equal
  to `parse_quantity(raw)`, `raw` inside the quote, references to existing, not-deleted records,
  unique names. Rule violations are a 422 naming each field in `invalid_params`.
- Ids: the client may send `id` (a slug, never used before, deleted records included: 409
  otherwise); without one it is the pinyin slug of the name (subject for metrics, headline for
  articles), at most 8 syllables, with `-2`, `-3` … appended on collision.
- PATCH, DELETE and restore need `If-Match` (RFC 9110 §13.1.1): the record's current `ETag` as a
  GET of its detail returns it (revision plus a hash of the body, so it also moves when an
  embedded record such as an article's organisation is renamed), or `*`, which matches any
  existing record. In this order: a missing (or, for PATCH and DELETE, deleted) record is a
  404; then a write without `If-Match` is a 428; then, as RFC 9110 §13.2.1 requires, a state
  conflict (409) comes before the condition is evaluated; then 412 when no tag matches. Every write transaction starts by bumping the dataset version, which serialises writers
  on both SQLite and PostgreSQL, so the tag is compared with the state the write applies to;
  the UPDATE also checks the revision (`WHERE revision = :expected`).
- A merge patch that changes nothing (`{}`, or the current values) writes nothing: the same
  revision and tag, no audit row, no dataset version bump (its transaction is rolled back).
- One transaction per write: the row, its search entry, the audit row (`change`) and the
  dataset-version bump; the HTTP layer's caches are invalidated after the commit.
- Soft delete sets `deleted_at`: the record is then a 404 and absent from lists, search,
  expansion and relation lists, until restored. A record that live records still reference
  (a metric's article, organisation, initiative or `growth_of`; an organisation's or
  initiative's `parent`) cannot be deleted: 409 naming the referrers; re-point or delete them
  first. Mentions in articles and initiatives' organisation roles come from the curated files
  and do not block a delete: they are hidden while the record is deleted.
- Records written here are `curator_edited`, so the seed loader leaves them alone (see
  `service.seed.sync`).
- Relation lists (article contributors and mentions, initiative organisations) come from the
  curated files and are not writable here.
"""
