"""Articles: news items, features, photo captions and banners, with repaired body text."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from service.curation.bodies import (
    Long,
    Notes,
    NullReasons,
    RepairIn,
    Slug,
    SpanIn,
    fits,
    patch_type,
)
from service.curation.rules import Context, Problems, Reason, Wire, squash
from service.listing.declare import list_spec
from service.listing.rows import Row
from service.listing.spec import (
    KEY_OPS,
    TEXT_OPS,
    FilterField,
    SortKey,
    linked_field,
    region_field,
    role_field,
    vocabulary_field,
)
from service.listing.sql import fetch_item
from service.models import (
    Article,
    ArticleContributor,
    ArticleInitiative,
    ArticleOrganisation,
    Contributor,
    Initiative,
    Organisation,
    table_of,
)
from service.resources.common import (
    Mention,
    RecordOut,
    RegionRef,
    Span,
    doc,
    span_of,
)
from service.resources.resource import Resource, SearchText, WriteSpec

ARTICLE_KINDS = ("news", "feature", "photo", "banner", "series")
CONTRIBUTOR_ROLES = ("reporter", "correspondent", "photographer")


class Byline(msgspec.Struct):
    """A contributor as credited: role reporter (记者), correspondent (通讯员) or photographer (摄)."""

    id: str
    name: str
    role: str
    staff_title: str | None


class Repair(msgspec.Struct):
    """A layout repair made to the body text (the source text itself is untouched)."""

    span: Span
    note: str


class ArticleOut(RecordOut):
    document: Annotated[str, doc("Source document id (`/v1/documents/{id}` has the full text).")]
    position: Annotated[int, doc("Order of the item on its page (0 = first).")]
    kind: Annotated[str, doc("Kind of item; see `enumerations.article_kinds`.")]
    section: Annotated[str | None, doc("Section or column banner the item runs under.")]
    kicker: Annotated[str | None, doc("Kicker (引题) above the headline.")]
    headline: Annotated[str, doc("Headline (主题).")]
    subheadline: Annotated[str | None, doc("Subheadline (副题).")]
    byline: Annotated[str | None, doc("Byline as printed.")]
    contributors: Annotated[list[Byline], doc("Credited contributors with role and staff title.")]
    region: RegionRef
    body: Annotated[list[str], doc("Body paragraphs, with layout repairs applied.")]
    continued_on: Annotated[str | None, doc("Page the article continues on (下转…), if any.")]
    span: Annotated[
        Span,
        doc(
            "Where `quote` (or the record) sits in the document text: {start, end}.",
            "Unicode code points, end exclusive",
        ),
    ]
    repairs: Annotated[
        list[Repair], doc("Layout repairs applied to the body text (the source is untouched).")
    ]


class ArticleDetail(ArticleOut, kw_only=True):
    """An article with the organisations and initiatives it names, each with its quote."""

    organisations: Annotated[
        list[Mention], doc("Organisations named, each with its first quoted mention.")
    ]
    initiatives: Annotated[
        list[Mention], doc("Initiatives named, each with its first quoted mention.")
    ]


t = table_of(Article)
c = t.c
links = table_of(ArticleContributor)
people = table_of(Contributor)


async def load_contributors(conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
    stmt = (
        sa.select(links.c.article_id, people.c.id, people.c.name, links.c.role, links.c.staff_title)
        .join(people, people.c.id == links.c.contributor_id)
        .where(links.c.article_id.in_(ids))
        .order_by(links.c.article_id, links.c.position)
    )
    grouped: dict[str, list[Byline]] = defaultdict(list)
    for row in (await conn.execute(stmt)).mappings():
        grouped[row["article_id"]].append(
            Byline(row["id"], row["name"], row["role"], row["staff_title"])
        )
    return {article_id: {"contributors": bylines} for article_id, bylines in grouped.items()}


def _repairs(row: Row) -> list[Repair]:
    return [Repair(Span(r["span"][0], r["span"][1]), r["note"]) for r in row["repairs"]]


CONVERT = {"span": span_of, "repairs": _repairs}


ARTICLES = list_spec(
    "articles",
    ArticleOut,
    t,
    convert=CONVERT,
    load_extras=load_contributors,
    filters=[
        FilterField(
            "document",
            str,
            KEY_OPS,
            "Document id",
            column=c.document_id,
            example="lishui-2022-08-page",
            facet=True,
        ),
        vocabulary_field("kind", c.kind, ARTICLE_KINDS, "Kind of item", "news"),
        region_field(c.region_id),
        linked_field("contributor", "Contributor id (byline)", links, "article_id", c.id),
        role_field(
            "contributor_role",
            "Has a contributor credited in this role",
            links,
            "article_id",
            c.id,
            CONTRIBUTOR_ROLES,
        ),
        linked_field(
            "organisation",
            "Names this organisation",
            table_of(ArticleOrganisation),
            "article_id",
            c.id,
        ),
        linked_field(
            "initiative",
            "Names this initiative",
            table_of(ArticleInitiative),
            "article_id",
            c.id,
            example="gong-fu-gong-fang",
        ),
        FilterField(
            "continued_on",
            str,
            KEY_OPS,
            "Page the article continues on (下转…)",
            column=c.continued_on,
            example="第三版",
            facet=True,
        ),
        FilterField("headline", str, TEXT_OPS, "Headline", column=c.headline),
        FilterField(
            "section", str, TEXT_OPS, "Section or column banner", column=c.section, facet=True
        ),
    ],
    sort_keys=[
        SortKey("document", c.document_id, str),
        SortKey("position", c.position, int, "Order on the page"),
        SortKey("headline", c.headline, str),
        SortKey("kind", c.kind, str),
    ],
    searchable=True,
    default_sort="document,position",
)


async def load_mentions(conn: AsyncConnection, article_id: str) -> dict[str, list[Mention]]:
    result: dict[str, list[Mention]] = {}
    for key, link, target, fk in (
        ("organisations", table_of(ArticleOrganisation), table_of(Organisation), "organisation_id"),
        ("initiatives", table_of(ArticleInitiative), table_of(Initiative), "initiative_id"),
    ):
        stmt = (
            sa.select(target.c.id, target.c.name, link.c.quote, link.c.span_start, link.c.span_end)
            .join(target, target.c.id == link.c[fk])
            .where(link.c.article_id == article_id, target.c.deleted_at.is_(None))
            .order_by(link.c.span_start, target.c.id)
        )
        result[key] = [
            Mention(r.id, r.name, article_id, r.quote, Span(r.span_start, r.span_end))
            for r in await conn.execute(stmt)
        ]
    return result


async def load_detail(conn: AsyncConnection, article_id: str) -> ArticleDetail | None:
    """The detail representation (also what writes return and the audit trail records)."""
    item = await fetch_item(conn, ARTICLES, article_id)
    if item is None:
        return None
    mentions = await load_mentions(conn, article_id)
    return ArticleDetail(
        **msgspec.structs.asdict(item),
        organisations=mentions["organisations"],
        initiatives=mentions["initiatives"],
    )


# ---------------------------------------------------------------- writes


class ArticleIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new article in a document: its span must contain the headline as printed. It is
    placed after the document's last article. Omit `id` to derive it from the headline."""

    document: Slug
    kind: Annotated[str, fits(Article, "kind")]
    headline: Annotated[str, fits(Article, "headline", 1)]
    span: SpanIn
    id: Slug | None = None
    section: Annotated[str, fits(Article, "section")] | None = None
    kicker: Annotated[str, fits(Article, "kicker")] | None = None
    subheadline: Annotated[str, fits(Article, "subheadline")] | None = None
    byline: Annotated[str, fits(Article, "byline")] | None = None
    region: Slug | None = None
    body: Annotated[list[Long], msgspec.Meta(max_length=500)] = []
    continued_on: Annotated[str, fits(Article, "continued_on")] | None = None
    repairs: Annotated[list[RepairIn], msgspec.Meta(max_length=100)] = []
    notes: Notes = []
    null_reasons: NullReasons = {}


def write_rules(record: Wire, ctx: Context, record_id: str) -> Problems:
    """The span lies in the document and holds the headline; repairs lie inside it."""
    problems: Problems = []
    start, end = record["span"]["start"], record["span"]["end"]
    text = ctx.document_text(record["document"])
    if text is None:
        missing = f"unknown document {record['document']!r}"
        problems.append(("document", Reason("unknown_reference", missing)))
    elif not 0 <= start < end <= len(text):
        problems.append(
            ("span", Reason("out_of_range", f"outside the document (length {len(text)})"))
        )
    elif squash(record["headline"]) not in squash(text[start:end]):
        problems.append(("headline", Reason("mismatch", "not found inside the article span")))
    for i, repair in enumerate(record["repairs"]):
        rs = repair["span"]
        if not start <= rs["start"] < rs["end"] <= end:
            problems.append(
                (f"repairs[{i}].span", Reason("out_of_range", "not inside the article span"))
            )
    return problems


WRITE = WriteSpec(
    in_type=ArticleIn,
    patch_type=patch_type(ArticleIn, "ArticlePatch"),
    kinds=ARTICLE_KINDS,
    nullable=("section", "kicker", "subheadline", "byline", "region", "continued_on"),
    required_text=("headline",),
    slug_field="headline",
    references={"region": "region"},
    referrers=(("metric", "article_id"),),
    rules=write_rules,
    position_in="document_id",
)


RESOURCE = Resource(
    ARTICLES,
    ArticleDetail,
    load_detail,
    description="News items, features, photo captions and banners on the pages.",
    detail_summary="Get an article with the organisations and initiatives it names",
    example_id="tai-long-yin-hang-zhu-qi-shu-kun",
    search=SearchText("headline", ("kicker", "subheadline", "section", "byline", "body")),
    write=WRITE,
)
